"""The CLI's HTTP client: it sends LINDUNG_API_KEY, and a 401/403 ends the command with exit 2."""

from __future__ import annotations

import httpx
import pytest

from lindung_cli import api

REFUSED = {
    "detail": {"code": "AUTH_REQUIRED", "message": "Masuk dengan kunci API yang sah untuk membuka data ini."}
}


def transport(seen: list[httpx.Request], status: int = 200, body: object = None) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json=body if body is not None else {"ok": True})

    return httpx.MockTransport(answer)


def test_the_key_is_sent_when_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINDUNG_API_KEY", " the-key \n")
    seen: list[httpx.Request] = []
    with api.client(transport=transport(seen), headers={"accept": "application/json"}) as client:
        assert client.get("http://registry/programmes").status_code == 200
    assert seen[0].headers["authorization"] == "Bearer the-key"
    assert seen[0].headers["accept"] == "application/json"


def test_no_key_no_header(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LINDUNG_API_KEY", raising=False)
    seen: list[httpx.Request] = []
    with api.client(transport=transport(seen)) as client:
        client.get("http://registry/programmes")
    assert "authorization" not in seen[0].headers


@pytest.mark.parametrize("status", [401, 403])
def test_a_refusal_prints_the_services_message_and_exits_2(
    status: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("LINDUNG_API_KEY", raising=False)
    with api.client(transport=transport([], status, REFUSED)) as client, pytest.raises(SystemExit) as stop:
        client.get("http://registry/programmes")
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "AUTH_REQUIRED: Masuk dengan kunci API yang sah untuk membuka data ini." in err
    # Only a 401 without a key says which variable to set.
    assert ("Setel LINDUNG_API_KEY" in err) is (status == 401)


def test_a_streamed_refusal_is_read_before_it_is_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LINDUNG_API_KEY", "wrong")
    with (
        api.client(transport=transport([], 401, REFUSED)) as client,
        pytest.raises(SystemExit),
        client.stream("POST", "http://registry/nominations/upload"),
    ):
        pass
    assert "Masuk dengan kunci API" in capsys.readouterr().err


def test_other_errors_are_left_to_the_command() -> None:
    with api.client(transport=transport([], 409, {"detail": {"code": "X", "message": "y"}})) as client:
        assert client.get("http://registry/x").status_code == 409
