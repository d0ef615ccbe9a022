"""The kecamatan the dashboard keeps of a nomination or a seat: a code, never the NIK."""

from __future__ import annotations

import json

from libs.pii import FORGOTTEN
from libs.regions import desa_of_regency, kecamatan_of_nik
from services.dashboard.domain import facts as f
from services.dashboard.domain.consumed import fact_of, minimised
from tests.integration.dashboard.support import Feed, person


def feed_of_one(desa: str | None = None) -> tuple[Feed, str]:
    feed = Feed("UNIT-KEC")
    feed.define("Program uji", 2025, 1_000_000, {("12.17", "non_sawit"): 2})
    p = person("12.17", "non_sawit", 1, seed=5)
    nid = feed.nominate(p)
    feed.validate(p, nid)
    feed.assign(p, nid, desa=desa)
    return feed, p.nik


def facts_by_type(feed: Feed) -> dict[str, f.Fact]:
    return {env.event_type: fact for _, _, env in feed.sent if (fact := fact_of(env)) is not None}


def test_the_kecamatan_comes_from_nik_digits_1_to_6_and_the_nik_is_not_kept() -> None:
    feed, nik = feed_of_one()
    facts = facts_by_type(feed)
    expected = kecamatan_of_nik(nik)
    assert expected is not None and expected.code == f"{nik[:2]}.{nik[2:4]}.{nik[4:6]}"
    for kind in ("WorkerNominated", "WorkerValidated"):
        fact = facts[kind]
        assert isinstance(fact, f.Placed) and fact.kecamatan_code == expected.code
    # A seat without a desa code counts in its nomination's kecamatan (joined by the views).
    assert isinstance(facts["QuotaAssigned"], f.Assigned) and facts["QuotaAssigned"].kecamatan_code is None
    for _, _, env in feed.sent:
        if env.event_type in f.FACTS:
            kept = json.dumps(minimised(env)[1].payload)
            assert nik not in kept and nik[6:] not in kept  # the code only (digits 1-6)


def test_the_desa_code_wins_over_the_nik() -> None:
    desa = desa_of_regency("12.17")[-1]
    feed, nik = feed_of_one(desa=desa.code)
    fact = facts_by_type(feed)["QuotaAssigned"]
    assert isinstance(fact, f.Assigned) and fact.kecamatan_code == desa.code.rsplit(".", 1)[0]
    payload = {"worker_id": "w", "nomination_id": "n", "programme_code": "P", "regency_code": "12.17"}
    validated = f.Validated.model_validate(
        {**payload, "sector": "sawit", "identity": {"nik": nik}, "desa_code": desa.code}
    )
    assert validated.kecamatan_code == desa.code[:8]


def test_a_forgotten_or_malformed_nik_gives_no_kecamatan() -> None:
    base = {
        "worker_id": "w",
        "nomination_id": "n",
        "programme_code": "P",
        "regency_code": "12.17",
        "sector": "sawit",
    }
    for nik in (FORGOTTEN, "enc:v1:abc", "12170112345", "1299991201650001"):  # last: no such kecamatan
        assert f.Nominated.model_validate({**base, "nik": nik}).kecamatan_code is None
        assert f.Validated.model_validate({**base, "identity": {"nik": nik}}).kecamatan_code is None


def test_the_inbox_copy_replays_to_the_same_fact() -> None:
    feed, _ = feed_of_one()
    for _, _, env in feed.sent:
        if env.event_type in f.FACTS:
            fact, reduced = minimised(env)
            assert fact_of(reduced) == fact
            assert "nik" not in reduced.payload and "identity" not in reduced.payload
