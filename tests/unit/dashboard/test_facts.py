"""What the dashboard keeps of each consumed event: the counting facts, and never personal data."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from libs.events import BY_TYPE, Envelope, decode
from services.dashboard.application.handlers import DashboardReactor
from services.dashboard.domain import facts as f
from services.dashboard.domain.consumed import fact_of, minimised
from tests.integration.dashboard.support import Feed, person

PERSONAL_FIELDS = {
    "nik",
    "nik_masked",
    "full_name",
    "birth_date",
    "sex",
    "address",
    "phone",
    "kpj",
    "identity",
}


def every_kind_of_event() -> tuple[list[Envelope], list[str]]:
    """One envelope of (nearly) every consumed contract, built as the services build them."""
    feed = Feed("UNIT-2025")
    feed.define("Program uji", 2025, 1_000_000, {("12.17", "non_sawit"): 2})
    p = person("12.17", "non_sawit", 1, seed=5, name="Rosmawati Sinaga")
    nid = feed.nominate(p)
    feed.reject(p, nid, "ALREADY_BPJS_PARTICIPANT")
    feed.correct(p, nid)
    feed.validate(p, nid)
    feed.seats("12.17", "non_sawit", 3, previous=2)
    feed.budget(2_000_000, previous=1_000_000)
    feed.assign(p, nid)
    feed.waitlist(p, nid, position=1)
    feed.decree("188/1/2025", 1, 1)
    feed.decreed(p, "188/1/2025")
    feed.enrol(p)
    feed.fail(p)
    feed.release(p, "enrollment_failed")
    feed.lapse(p)
    feed.restore(p)
    feed.bill("12.17", "2025-03", [p])
    feed.premium("12.17", "2025-03", 1)
    feed.membership_ended(p)
    feed.claim("K-1", p, "JKK", "MEDICAL", date(2025, 4, 1), 1_500_000)
    feed.flag("K-1", p, "AMOUNT_ABOVE_BENEFIT")
    feed.withdraw(p, nid)
    personal = [p.nik, p.full_name, f"KPJ{p.nik[-10:]}", p.birth_date.isoformat(), "081234567890"]
    return [env for _, _, env in feed.sent], personal


def test_every_consumed_type_is_a_known_contract_and_its_fields_exist() -> None:
    # A field renamed in libs/events breaks here, not silently in the dashboard's counts.
    for event_type, fact in f.FACTS.items():
        contract = BY_TYPE[event_type]
        missing = set(fact.model_fields) - set(contract.model_fields) - f.DERIVED_FIELDS
        assert not missing, f"{event_type}: {missing}"
    assert DashboardReactor.interested == frozenset(f.FACTS)


def test_minimised_envelopes_hold_no_personal_data() -> None:
    envelopes, personal = every_kind_of_event()
    assert {e.event_type for e in envelopes} >= set(f.FACTS) - {"QuotaUnseated", "QuotaDeclined"}
    for env in envelopes:
        fact, kept = minimised(env)
        text = kept.model_dump_json()
        assert not [v for v in personal if v in text], env.event_type
        assert not PERSONAL_FIELDS & set(kept.payload), env.event_type
        # The envelope's identity is untouched: the same event, fewer fields.
        assert (kept.event_id, kept.event_type, kept.aggregate_id, kept.occurred_at) == (
            env.event_id,
            env.event_type,
            env.aggregate_id,
            env.occurred_at,
        )
        # A replay reads the kept envelope back into the very fact the live consumer projected.
        assert fact_of(kept) == fact == fact_of(env)


def test_rejections_keep_codes_not_messages() -> None:
    envelopes, personal = every_kind_of_event()
    rejected = next(e for e in envelopes if e.event_type == "WorkerRejected")
    assert personal[0] in str(decode(rejected).model_dump())  # the message quoted the NIK...
    _, kept = minimised(rejected)
    assert kept.payload["reasons"] == [{"code": "ALREADY_BPJS_PARTICIPANT"}]  # ...the dashboard does not


def test_an_old_version_is_upcast_before_it_is_kept() -> None:
    envelopes, _ = every_kind_of_event()
    v2 = next(e for e in envelopes if e.event_type == "WorkerNominated")
    payload = {k: v for k, v in v2.payload.items() if k != "sector"} | {"sawit": True}
    v1 = v2.model_copy(update={"schema_version": 1, "payload": payload, "event_id": uuid.uuid4()})
    fact, kept = minimised(v1)
    assert isinstance(fact, f.Nominated) and fact.sector == "sawit"
    assert kept.schema_version == 2 and kept.payload["sector"] == "sawit"
    assert fact_of(kept) == fact  # replaying the kept copy does not upcast it a second time


def test_types_the_dashboard_does_not_count_are_not_facts() -> None:
    stranger = Envelope(
        event_type="PremiumPaymentRetryScheduled",
        schema_version=1,
        aggregate_id="bill-1",
        aggregate_version=1,
        correlation_id=uuid.uuid4(),
        producer="enrollment",
        payload={},
    )
    assert fact_of(stranger) is None
    with pytest.raises(LookupError):
        minimised(stranger)


def test_programme_cost_per_worker() -> None:
    envelopes, _ = every_kind_of_event()
    programme = fact_of(envelopes[0])
    assert isinstance(programme, f.Programme)
    assert programme.cost_per_worker == (10_000 + 6_800) * 12 == 201_600
