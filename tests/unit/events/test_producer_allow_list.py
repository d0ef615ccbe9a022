"""Who may write each topic (libs/events/topics.py): `producer_refusal` on names and templates."""

from __future__ import annotations

import pytest

from libs.events import topics
from libs.events.topics import (
    PRODUCER_NOT_ALLOWED,
    PRODUCER_OUT_OF_SCOPE,
    SUBSCRIPTIONS,
    TOPICS,
    ProducerRefused,
    producer_refusal,
)

SAMOSIR = {"regency_code": "12.17", "programme_code": "DEMO-SUMUT-2026"}


@pytest.mark.parametrize(
    ("topic", "producer"),
    [
        (topics.REGISTRY, "registry"),
        (topics.ALLOCATION, "allocation"),
        (topics.ENROLLMENT, "enrollment"),
        (topics.CLAIMS, "claims"),
        (topics.BPJS_REQUESTS, "enrollment"),
        (topics.BPJS_RESULTS, "bpjs"),
        (topics.BPJS_CLAIMS, "bpjs"),
        (topics.NOMINATION_REPLIES, "registry"),
    ],
)
def test_allowed_names_pass(topic: str, producer: str) -> None:
    assert producer_refusal(topic, producer, SAMOSIR) is None


def test_a_regency_system_nominates_for_its_own_regency() -> None:
    assert producer_refusal(topics.NOMINATIONS_INBOUND, "regency-12.17", SAMOSIR) is None


@pytest.mark.parametrize(
    ("payload", "sent"),
    [
        ({"regency_code": "12.71"}, "12.71"),
        ({"regency_code": "12.1"}, "12.1"),  # a prefix of the bound regency is another regency
        ({}, "None"),
        ({"regency_code": None}, "None"),
        ({"regency_code": 1217}, "1217"),
    ],
)
def test_a_regency_system_out_of_its_regency_is_refused(payload: dict[str, object], sent: str) -> None:
    refused = producer_refusal(topics.NOMINATIONS_INBOUND, "regency-12.17", payload)
    assert isinstance(refused, ProducerRefused)
    assert refused.code == PRODUCER_OUT_OF_SCOPE
    assert refused.details == {
        "topic": topics.NOMINATIONS_INBOUND,
        "producer": "regency-12.17",
        "field": "regency_code",
        "allowed": "12.17",
        "sent": sent,
    }
    assert refused.message.startswith(
        "Sistem regency-12.17 hanya boleh mengirim data untuk regency_code 12.17"
    )
    assert str(refused).startswith(PRODUCER_OUT_OF_SCOPE)


@pytest.mark.parametrize(
    ("topic", "producer"),
    [
        (topics.NOMINATIONS_INBOUND, "bpjs"),
        (topics.NOMINATIONS_INBOUND, "registry"),
        (topics.NOMINATIONS_INBOUND, "regency-"),  # the template with nothing in its place
        (topics.NOMINATIONS_INBOUND, "kabupaten-12.17"),
        (topics.NOMINATIONS_INBOUND, ""),
        (topics.REGISTRY, "allocation"),
        (topics.REGISTRY, "regency-12.17"),
        (topics.ALLOCATION, "registry"),
        (topics.BPJS_RESULTS, "enrollment"),
        (topics.BPJS_CLAIMS, "regency-12.17"),
        (topics.BPJS_REQUESTS, "bpjs"),
        (topics.CLAIMS, "Claims"),  # names are exact
        # The simulator is not BPJS unless configured so (LINDUNG_BPJS_PRODUCERS).
        (topics.BPJS_RESULTS, "bpjs_simulator"),
        (topics.BPJS_CLAIMS, "bpjs_simulator"),
    ],
)
def test_unknown_producers_are_refused(topic: str, producer: str) -> None:
    refused = producer_refusal(topic, producer, SAMOSIR)
    assert isinstance(refused, ProducerRefused)
    assert refused.code == PRODUCER_NOT_ALLOWED
    assert refused.details["topic"] == topic and refused.details["producer"] == producer
    assert f"Pengirim '{producer}' tidak berhak menulis ke topik {topic}" in refused.message


def test_the_refusal_names_who_may() -> None:
    inbound = producer_refusal(topics.NOMINATIONS_INBOUND, "bpjs", SAMOSIR)
    assert inbound is not None and inbound.details["allowed"] == "regency-<regency_code>"
    results = producer_refusal(topics.BPJS_RESULTS, "enrollment", {})
    assert results is not None and results.details["allowed"] == "bpjs"
    configured = producer_refusal(topics.BPJS_RESULTS, "enrollment", {}, ("bpjs", "bpjs_simulator"))
    assert configured is not None and configured.details["allowed"] == "bpjs, bpjs_simulator"


def test_who_speaks_for_bpjs_is_the_setting() -> None:
    dev = ("bpjs", "bpjs_simulator")
    for topic in (topics.BPJS_RESULTS, topics.BPJS_CLAIMS):
        assert producer_refusal(topic, "bpjs_simulator", {}, dev) is None
        assert producer_refusal(topic, "bpjs", {}, dev) is None
        # A gateway of another name, configured alone: even `bpjs` is refused then.
        assert producer_refusal(topic, "bpjs-gateway-2", {}, ("bpjs-gateway-2",)) is None
        refused = producer_refusal(topic, "bpjs", {}, ("bpjs-gateway-2",))
        assert refused is not None and refused.code == PRODUCER_NOT_ALLOWED
    # The setting concerns BPJS's topics only.
    assert producer_refusal(topics.BPJS_REQUESTS, "bpjs_simulator", {}, dev) is not None
    assert producer_refusal(topics.CLAIMS, "bpjs", {}, dev) is not None


@pytest.mark.parametrize("topic", ["test.backbone.v1", "lindung.registry.dlq.v1", "lindung.registry.v2"])
def test_undeclared_topics_have_no_allow_list(topic: str) -> None:
    assert producer_refusal(topic, "anyone", {}) is None


def test_every_topic_a_service_consumes_has_an_allow_list() -> None:
    declared = {spec.name: spec for spec in TOPICS}
    for group, consumed in SUBSCRIPTIONS.items():
        for topic in consumed:
            assert topic in declared, (group, topic)
            assert declared[topic].producers, topic
