"""`lindung kafka setup` against a secured node: users, ACLs and topics, idempotent, and clear
refusals when it does not run as the cluster's admin."""

from __future__ import annotations

import json

from libs.events import topics
from libs.events.topics import all_topic_names
from lindung_cli.kafka_acls import Grant, acl_table
from lindung_cli.kafka_setup import KafkaAdmin
from tests.integration.kafka_security.conftest import (
    BPJS_PRODUCERS,
    CREDENTIALS,
    SecuredCluster,
    lindung_kafka,
)


def test_setup_creates_the_users_acls_and_topics_and_a_second_run_changes_nothing(
    cluster: SecuredCluster,
) -> None:
    table = acl_table(bpjs_producers=json.loads(BPJS_PRODUCERS))
    first, second = cluster.first_setup.stdout, cluster.second_setup.stdout
    assert cluster.second_setup.returncode == 0, second + cluster.second_setup.stderr
    assert f"ACLs: {len(table)} created, 0 already present" in first, first
    assert f"topics: {len(all_topic_names())} created, 0 already present" in first, first
    assert "principals without a user (not in the credentials): " in first and "auditor" in first
    assert f"ACLs: 0 created, {len(table)} already present" in second, second
    assert f"topics: 0 created, {len(all_topic_names())} already present" in second, second
    assert "users created: -" in second, second

    admin = KafkaAdmin(cluster.connection("admin").librdkafka_config(), "admin")
    assert admin.existing_grants() == set(table)
    assert admin.scram_users() == {"admin", *CREDENTIALS}
    assert set(all_topic_names()) <= admin.check_connected()


def test_setup_as_a_service_is_refused_as_not_authorised(cluster: SecuredCluster) -> None:
    done = lindung_kafka(cluster.env_of("registry"), "setup")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "registry is not authorised" in done.stdout, done.stdout


def test_setup_with_a_wrong_admin_password_is_refused_at_authentication(cluster: SecuredCluster) -> None:
    done = lindung_kafka(cluster.env_of("admin", "not-the-password"), "setup")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "refused admin's credentials" in done.stdout, done.stdout


def test_an_acl_the_table_no_longer_has_is_listed_and_removed_with_prune(cluster: SecuredCluster) -> None:
    stale = Grant("registry", "topic", topics.CLAIMS, "literal", "WRITE")
    admin = KafkaAdmin(cluster.connection("admin").librdkafka_config(), "admin")
    admin.create_acls([stale])
    admin_env = cluster.env_of("admin")

    kept = lindung_kafka(admin_env, "setup")
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert f"registry WRITE topic {topics.CLAIMS} (literal)" in kept.stdout, kept.stdout
    assert stale in admin.existing_grants()

    pruned = lindung_kafka(admin_env, "setup", "--prune")
    assert pruned.returncode == 0, pruned.stdout + pruned.stderr
    assert "1 ACLs of Lindung's principals removed" in pruned.stdout, pruned.stdout
    assert admin.existing_grants() == set(acl_table(bpjs_producers=json.loads(BPJS_PRODUCERS)))
