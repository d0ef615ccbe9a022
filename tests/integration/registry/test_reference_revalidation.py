"""Reference data as versioned events, and re-validation of the nominations waiting on it."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from libs.events import topics
from libs.events.envelope import Envelope
from libs.identity import worker_id_for
from libs.settings import get_settings
from tests.integration.registry.conftest import Registry
from tests.running import read_matching

pytestmark = pytest.mark.integration

BIRTH = date(1980, 2, 29)


def nomination(registry: Registry, nik: str, **fields: Any) -> dict[str, Any]:
    return {
        "programme_code": registry.programme,
        "nik": nik,
        "full_name": "Lamhot Situmorang",
        "birth_date": BIRTH.isoformat(),
        "sex": "L",
        "occupation": "petani",
        "regency_code": "12.17",
        "kecamatan": "Harian",
        "desa": "Hariara Pohan",
        "sector": "non_sawit",
        **fields,
    }


@pytest.fixture(scope="module")
async def scene(registry: Registry) -> dict[str, Any]:
    n = registry.niks
    people = {name: n.new(birth=BIRTH) for name in ("kept", "missing", "desil3", "mismatch", "dtks", "stays")}
    v1 = await registry.import_p3ke(
        {people["kept"]: 1, people["desil3"]: 3, people["stays"]: 4, people["mismatch"]: 1}
    )
    ids = {}
    for name, nik in people.items():
        fields = {"birth_date": "1980-03-01"} if name == "mismatch" else {}
        answer = await registry.http.post("/nominations", json=nomination(registry, nik, **fields))
        assert answer.status_code == 201, answer.text
        ids[name] = answer.json()
    v2_rows = {
        people["kept"]: 1,
        people["missing"]: 2,
        people["desil3"]: 2,
        people["stays"]: 4,
        people["mismatch"]: 1,
    }
    v2 = await registry.import_p3ke(v2_rows)
    same = await registry.import_p3ke(v2_rows)
    dtks = await registry.http.post(
        "/reference/dtks", content=f"nik\n{people['dtks']}\n".encode(), params={"source": "dtks.csv"}
    )
    assert dtks.status_code == 201, dtks.text
    return {"people": people, "ids": ids, "v1": v1, "v2": v2, "same": same, "dtks": dtks.json()}


async def test_first_decisions_name_the_version_they_used(scene: dict[str, Any]) -> None:
    ids, v1 = scene["ids"], scene["v1"]
    assert v1["changed"] and v1["sequence"] == 1 and v1["rows"] == 4
    assert ids["kept"]["status"] == "validated"
    assert ids["kept"]["reference_version"] == f"p3ke:{v1['version']};dtks:none"
    assert [r["code"] for r in ids["missing"]["reasons"]] == ["NOT_IN_P3KE_OR_DTKS"]
    assert [r["code"] for r in ids["desil3"]["reasons"]] == ["DECILE_NOT_ALLOWED"]


async def test_a_new_version_re_decides_the_nominations_waiting_on_poverty_data(
    registry: Registry, scene: dict[str, Any]
) -> None:
    v2, ids = scene["v2"], scene["ids"]
    assert v2["changed"] and v2["sequence"] == 2
    # missing and desil3 become validated; stays (desil 4) and dtks (in neither extract yet) are
    # decided again and still rejected.
    assert v2["revalidation"] == {"revalidated": 4, "validated": 2, "rejected": 2}
    reference = f"p3ke:{v2['version']};dtks:none"
    with_dtks = f"p3ke:{v2['version']};dtks:{scene['dtks']['version']}"
    # Still rejected after v2, "stays" was decided again when the DTKS extract arrived.
    for name, status, version in (
        ("missing", "validated", reference),
        ("desil3", "validated", reference),
        ("stays", "rejected", with_dtks),
    ):
        row = (await registry.http.get(f"/nominations/{ids[name]['nomination_id']}")).json()
        assert (row["status"], row["reference_version"]) == (status, version), name
    # A rejection for another reason waits for a correction, not for reference data.
    mismatch = (await registry.http.get(f"/nominations/{ids['mismatch']['nomination_id']}")).json()
    assert (
        mismatch["status"] == "rejected"
        and mismatch["reference_version"] == f"p3ke:{scene['v1']['version']};dtks:none"
    )
    assert [r["code"] for r in mismatch["reasons"]] == ["NIK_BIRTHDATE_MISMATCH"]
    history = (await registry.http.get(f"/nominations/{ids['missing']['nomination_id']}/history")).json()
    assert [h["event_type"] for h in history] == [
        "WorkerNominated",
        "WorkerRejected",
        "NominationRevalidated",
        "WorkerValidated",
    ]
    assert history[2]["trigger"] == v2["version"]


async def test_the_same_file_again_is_no_new_version_and_dtks_admits_its_worker(
    registry: Registry, scene: dict[str, Any]
) -> None:
    assert scene["same"]["changed"] is False and scene["same"]["sequence"] == 2
    assert scene["same"]["revalidation"]["revalidated"] == 0
    assert scene["dtks"]["sequence"] == 1 and scene["dtks"]["revalidation"]["validated"] == 1
    dtks = (await registry.http.get(f"/nominations/{scene['ids']['dtks']['nomination_id']}")).json()
    assert dtks["status"] == "validated" and dtks["poverty_source"] == "DTKS"
    history = (await registry.http.get("/reference/p3ke/history")).json()
    assert [(h["sequence"], h["version"]) for h in history] == [
        (1, scene["v1"]["version"]),
        (2, scene["v2"]["version"]),
    ]
    assert all(len(h["sha256"]) == 64 and h["source_name"] == "p3ke.csv" for h in history)
    current = {r["kind"]: r for r in (await registry.http.get("/reference")).json()}
    assert current["p3ke"]["version"] == scene["v2"]["version"] and current["dtks"]["rows"] == 1


async def test_versions_and_re_decisions_are_published(registry: Registry, scene: dict[str, Any]) -> None:
    await registry.drained()
    imported = await read_matching(
        registry.bootstrap,
        topics.REGISTRY,
        lambda r: r.key == b"reference-p3ke" and registry.programme.encode() not in r.value,
        2,
    )
    versions = [Envelope.from_bytes(r.value).payload["version"] for r in imported]
    assert scene["v1"]["version"] in versions and scene["v2"]["version"] in versions
    worker = worker_id_for(scene["people"]["missing"], get_settings().nik_pepper)
    events = await read_matching(registry.bootstrap, topics.REGISTRY, lambda r: r.key == worker.encode(), 4)
    decoded = [Envelope.from_bytes(r.value) for r in events]
    assert [e.event_type for e in decoded] == [
        "WorkerNominated",
        "WorkerRejected",
        "NominationRevalidated",
        "WorkerValidated",
    ]
    validated = decoded[-1].payload
    # Allocation ranks by nomination time: a re-decision keeps the original one.
    assert validated["nominated_at"] < decoded[-1].occurred_at.isoformat()
