"""The ACL table `lindung kafka setup` applies, derived from libs/events/topics.py (no broker)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from libs.events import topics
from libs.events.topics import SUBSCRIPTIONS, TOPICS, dead_letter_topic, producer_refusal
from lindung_cli.kafka_acls import AUDITOR, Grant, acl_table, markdown, may, principals, regency_codes, rows
from lindung_cli.kafka_setup import SetupError, _binding, _grant_of, read_credentials

TABLE = acl_table()
SERVICES = ("registry", "allocation", "enrollment", "claims", "bpjs_simulator", "dashboard")


def writes(principal: str) -> set[str]:
    return {g.name for g in TABLE if g.principal == principal and g.operation == "WRITE"}


def reads(principal: str) -> set[str]:
    return {
        g.name for g in TABLE if g.principal == principal and g.resource == "topic" and g.operation == "READ"
    }


def test_one_principal_per_service_bpjs_regency_and_the_auditor() -> None:
    names = principals(regency_codes())
    assert len(regency_codes()) == 33
    assert len(names) == len(set(names)) == 6 + 1 + 33 + 1
    assert set(SERVICES) | {"bpjs", "regency-12.17", "regency-12.71", AUDITOR} <= set(names)
    assert {g.principal for g in TABLE} == set(names)


def test_the_registry_writes_its_topics_only() -> None:
    # Its own topics, and the signed checkpoints of its event store (docs/security.md).
    assert writes("registry") == {
        topics.REGISTRY,
        topics.NOMINATION_REPLIES,
        dead_letter_topic("registry"),
        topics.AUDIT_CHECKPOINTS,
    }
    assert not may(TABLE, "registry", "WRITE", "topic", topics.ENROLLMENT)
    assert not may(TABLE, "registry", "WRITE", "topic", topics.NOMINATIONS_INBOUND)


def test_a_regency_writes_nominations_and_reads_replies_only() -> None:
    assert writes("regency-12.17") == {topics.NOMINATIONS_INBOUND}
    assert reads("regency-12.17") == {topics.NOMINATION_REPLIES}
    assert not may(TABLE, "regency-12.17", "WRITE", "topic", topics.BPJS_RESULTS)
    assert not may(TABLE, "regency-12.17", "READ", "topic", topics.BPJS_REQUESTS)


def test_a_regency_uses_its_own_consumer_groups_only() -> None:
    assert may(TABLE, "regency-12.17", "READ", "group", "regency-12.17")
    assert may(TABLE, "regency-12.17", "READ", "group", "regency-12.17-replies")
    # Samosir's prefix covers no other regency's group (12.17 is a prefix of no code, but "-" makes sure).
    assert not may(TABLE, "regency-12.17", "READ", "group", "regency-12.71-replies")
    assert not may(TABLE, "regency-12.01", "READ", "group", "regency-12.017")
    assert not may(TABLE, "regency-12.17", "READ", "group", "registry")


def test_bpjs_has_the_simulators_topic_rights_but_not_its_group() -> None:
    # The simulator writes BPJS's topics only where it is configured to speak for BPJS.
    assert writes("bpjs_simulator") == {dead_letter_topic("bpjs_simulator")}
    dev = acl_table(bpjs_producers=("bpjs", "bpjs_simulator"))
    simulator = {g.name for g in dev if g.principal == "bpjs_simulator" and g.operation == "WRITE"}
    assert writes("bpjs") == simulator - {dead_letter_topic("bpjs_simulator")}
    assert writes("bpjs") == {topics.BPJS_RESULTS, topics.BPJS_CLAIMS}
    assert reads("bpjs") == reads("bpjs_simulator") == {topics.BPJS_REQUESTS}
    assert may(TABLE, "bpjs", "READ", "group", "bpjs-gateway")
    assert not may(TABLE, "bpjs", "READ", "group", "bpjs_simulator")


def test_every_writer_is_one_the_consumers_accept_and_no_other() -> None:
    """The broker's WRITE grants and the envelope check (`producer_refusal`) agree on every topic."""
    for spec in TOPICS:
        for principal in principals(regency_codes()):
            payload = {"regency_code": principal.removeprefix("regency-")}
            accepted = producer_refusal(spec.name, principal, payload) is None
            assert may(TABLE, principal, "WRITE", "topic", spec.name) == accepted, (spec.name, principal)


def test_each_service_reads_its_subscriptions_in_its_own_group_and_writes_its_dead_letters() -> None:
    for group, subscribed in SUBSCRIPTIONS.items():
        assert reads(group) == set(subscribed)
        assert {g.name for g in TABLE if g.principal == group and g.resource == "group"} == {group}
        assert dead_letter_topic(group) in writes(group)
    assert writes("dashboard") == {dead_letter_topic("dashboard")}


def test_the_auditor_reads_every_topic_without_a_group_and_writes_nothing() -> None:
    assert reads(AUDITOR) == set(topics.all_topic_names())
    assert writes(AUDITOR) == set()
    assert not [g for g in TABLE if g.principal == AUDITOR and g.resource == "group"]


def test_patterns_are_literal_except_the_external_systems_group_prefixes() -> None:
    prefixed = [g for g in TABLE if g.pattern == "prefixed"]
    assert all(g.resource == "group" and g.name == f"{g.principal}-" for g in prefixed)
    assert {g.principal for g in prefixed} == {"bpjs", *(f"regency-{c}" for c in regency_codes())}
    assert len(TABLE) == len(set(TABLE))


def test_a_grant_survives_the_round_trip_through_confluent_kafkas_binding() -> None:
    for grant in (TABLE[0], next(g for g in TABLE if g.pattern == "prefixed")):
        assert _grant_of(_binding(grant)) == grant


def test_the_markdown_has_one_row_per_principal() -> None:
    text = markdown(TABLE)
    assert len(text.splitlines()) == 2 + len(principals(regency_codes()))
    assert "| `regency-12.17` | `lindung.nominations.inbound.v1` |" in text
    assert [r.principal for r in rows(TABLE)] == list(principals(regency_codes()))


def test_credentials_are_read_from_yaml_or_json(tmp_path: Path) -> None:
    known = principals(regency_codes())
    yaml_file = tmp_path / "c.yaml"
    yaml_file.write_text("registry: s3cret\nregency-12.17: 123456\n")
    assert read_credentials(yaml_file, known) == {"registry": "s3cret", "regency-12.17": "123456"}
    json_file = tmp_path / "c.json"
    json_file.write_text(json.dumps({"bpjs": "x"}))
    assert read_credentials(json_file, known) == {"bpjs": "x"}


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("registy: s3cret\n", "unknown principals"),
        ("admin: s3cret\n", "admin"),
        ("registry: ''\n", "non-empty password"),
        ("registry:\n", "non-empty password"),
        ("- registry\n", "mapping"),
    ],
)
def test_bad_credentials_are_refused_before_connecting(tmp_path: Path, text: str, complaint: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(SetupError, match=complaint):
        read_credentials(path, principals(regency_codes()))


def test_a_grant_names_its_kafka_principal() -> None:
    assert Grant("regency-12.17", "topic", "t", "literal", "WRITE").kafka_principal == "User:regency-12.17"


def test_docs_show_the_table_as_the_code_derives_it() -> None:
    docs = Path(__file__).resolve().parents[3] / "docs" / "kafka.md"
    assert markdown(TABLE) in docs.read_text(), "paste `lindung kafka acls --format markdown` there"
