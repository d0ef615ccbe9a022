"""The broker itself refuses what a principal may not do: Lindung's own client (aiokafka, as every
service uses it) connecting with the LINDUNG_KAFKA_* settings of each principal. Each refusal has
its allowed twin beside it, so a test cannot pass on a broker that refuses everything."""

from __future__ import annotations

import logging

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import GroupAuthorizationFailedError, KafkaConnectionError, TopicAuthorizationFailedError

from libs.events import topics
from libs.messaging.connection import KafkaConnection
from tests.integration.kafka_security.conftest import SecuredCluster
from tests.support import kafka


async def produce(connection: KafkaConnection, topic: str) -> None:
    """One probe record as `connection`'s principal: a refusal raises."""
    probe = [(None, b'{"probe": true}')]
    await kafka.produce(
        connection.bootstrap, topic, probe, request_timeout_ms=10_000, **connection.aiokafka_options()
    )


async def consume(connection: KafkaConnection, topic: str, group: str | None) -> None:
    """Join `group` (or none) on `topic` and fetch once: a refusal raises."""
    consumer = AIOKafkaConsumer(
        topic, **connection.aiokafka_options(), group_id=group, auto_offset_reset="earliest"
    )
    try:
        await consumer.start()
        await consumer.getmany(timeout_ms=500)
    finally:
        await consumer.stop()


@pytest.mark.parametrize(
    ("principal", "allowed", "refused"),
    [
        ("regency-12.17", topics.NOMINATIONS_INBOUND, topics.BPJS_RESULTS),
        ("registry", topics.REGISTRY, topics.ENROLLMENT),
        ("bpjs", topics.BPJS_RESULTS, topics.BPJS_REQUESTS),
        ("dashboard", topics.dead_letter_topic("dashboard"), topics.REGISTRY),
    ],
)
async def test_a_principal_writes_its_topics_and_is_refused_elsewhere(
    cluster: SecuredCluster, principal: str, allowed: str, refused: str
) -> None:
    await produce(cluster.connection(principal), allowed)
    with pytest.raises(TopicAuthorizationFailedError):
        await produce(cluster.connection(principal), refused)


async def test_a_regency_reads_its_replies_but_not_the_bpjs_requests(cluster: SecuredCluster) -> None:
    samosir = cluster.connection("regency-12.17")
    await consume(samosir, topics.NOMINATION_REPLIES, "regency-12.17-replies")
    with pytest.raises(TopicAuthorizationFailedError):
        await consume(samosir, topics.BPJS_REQUESTS, "regency-12.17-replies")


async def test_a_regency_may_not_join_a_services_or_another_regencys_group(cluster: SecuredCluster) -> None:
    samosir = cluster.connection("regency-12.17")
    for group in ("registry", "regency-12.71-replies"):
        with pytest.raises(GroupAuthorizationFailedError):
            await consume(samosir, topics.NOMINATION_REPLIES, group)


async def test_the_auditor_has_no_user_until_the_credentials_name_it(
    cluster: SecuredCluster, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="aiokafka"), pytest.raises(KafkaConnectionError):
        await consume(cluster.connection("auditor", "any"), topics.REGISTRY, None)
    assert "SaslAuthenticationFailed" in caplog.text


async def test_a_wrong_password_is_refused_at_authentication(
    cluster: SecuredCluster, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="aiokafka"), pytest.raises(KafkaConnectionError):
        await produce(cluster.connection("regency-12.17", "medan-pw"), topics.NOMINATIONS_INBOUND)
    assert "SaslAuthenticationFailed" in caplog.text


async def test_a_client_without_sasl_cannot_connect(
    cluster: SecuredCluster, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="aiokafka"), pytest.raises(KafkaConnectionError):
        await produce(KafkaConnection(cluster.bootstrap), topics.NOMINATIONS_INBOUND)
    assert "closed" in caplog.text
