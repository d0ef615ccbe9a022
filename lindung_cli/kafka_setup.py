"""`lindung kafka setup`: SCRAM users, the ACL table (lindung_cli/kafka_acls.py) and the topics,
applied to a secured Apache Kafka cluster as its admin, idempotently."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from confluent_kafka import KafkaError, KafkaException

# confluent-kafka re-exports these without `__all__`: mypy's strict mode sees no export.
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialAlteration,
    UserScramCredentialUpsertion,
)

from libs.events import topics
from lindung_cli.kafka_acls import Grant

# --- credentials ------------------------------------------------------------------------------


class SetupError(RuntimeError):
    """Setup cannot go on (the message says why and what to do)."""


def read_credentials(path: Path, known: Sequence[str]) -> dict[str, str]:
    """principal → password from a YAML (or JSON) mapping; an unknown principal is an error (a typo
    would otherwise leave the real principal without a user)."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise SetupError(f"cannot read the credentials file {path}: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SetupError(f"{path} must be a mapping of principal to password")
    if "admin" in data:
        raise SetupError(
            "the admin's password is the broker's own (its JAAS settings): it is not set from this file"
        )
    unknown = sorted(str(name) for name in data if str(name) not in known)
    if unknown:
        raise SetupError(f"unknown principals in {path}: {', '.join(unknown)} (see `lindung kafka acls`)")
    # YAML reads a password of digits as a number: taken as written.
    empty = sorted(str(n) for n, p in data.items() if not isinstance(p, str | int) or not str(p))
    if empty:
        raise SetupError(f"every principal in {path} needs a non-empty password: {', '.join(empty)}")
    return {str(name): str(password) for name, password in data.items()}


# --- applying it to a cluster (confluent-kafka's AdminClient: aiokafka has no SCRAM or ACL calls) ---

SCRAM_ITERATIONS = 8192


@dataclass
class SetupReport:
    users_created: list[str] = field(default_factory=list)
    users_updated: list[str] = field(default_factory=list)
    without_user: list[str] = field(default_factory=list)
    acls_created: int = 0
    acls_present: int = 0
    acls_extra: list[Grant] = field(default_factory=list)
    acls_removed: int = 0
    topics_created: list[str] = field(default_factory=list)
    topics_present: int = 0


def _binding(grant: Grant, kind: type[AclBinding] = AclBinding) -> Any:
    """The grant as confluent-kafka's AclBinding (to create), or the AclBindingFilter that matches
    exactly it (to delete)."""
    return kind(
        ResourceType.TOPIC if grant.resource == "topic" else ResourceType.GROUP,
        grant.name,
        ResourcePatternType.LITERAL if grant.pattern == "literal" else ResourcePatternType.PREFIXED,
        grant.kafka_principal,
        "*",
        AclOperation[grant.operation],
        AclPermissionType.ALLOW,
    )


def _grant_of(binding: Any) -> Grant | None:
    """The Grant an ALLOW binding on a topic or group is (None for anything else)."""

    if binding.permission_type != AclPermissionType.ALLOW or binding.host != "*":
        return None
    if binding.restype not in (ResourceType.TOPIC, ResourceType.GROUP) or binding.operation.name not in (
        "READ",
        "WRITE",
    ):
        return None
    if binding.resource_pattern_type not in (ResourcePatternType.LITERAL, ResourcePatternType.PREFIXED):
        return None
    return Grant(
        binding.principal.removeprefix("User:"),
        "topic" if binding.restype == ResourceType.TOPIC else "group",
        binding.name,
        "literal" if binding.resource_pattern_type == ResourcePatternType.LITERAL else "prefixed",
        binding.operation.name,
    )


class KafkaAdmin:
    """confluent-kafka's AdminClient as the admin, with errors turned into SetupError for people."""

    def __init__(self, config: Mapping[str, Any], who: str, timeout_s: float = 15.0) -> None:
        self.errors: list[Any] = []
        self.who = who
        self.timeout_s = timeout_s
        self.bootstrap = str(config["bootstrap.servers"])
        # librdkafka reports an authentication failure through error_cb only (requests time out).
        options: dict[str, Any] = {**config, "error_cb": self.errors.append, "log_level": 0}
        self.client = AdminClient(options)

    def check_connected(self) -> set[str]:
        """The cluster's topics; SetupError when it cannot be reached or refuses the credentials."""

        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                return set(self.client.list_topics(timeout=1).topics)
            except KafkaException:
                pass
            self.client.poll(0.1)  # serves error_cb
            refused = [e for e in self.errors if e.code() == KafkaError._AUTHENTICATION]
            if refused:
                raise SetupError(
                    f"the broker at {self.bootstrap} refused {self.who}'s credentials: {refused[-1].str()} "
                    "(check LINDUNG_KAFKA_SASL_USERNAME / _SASL_PASSWORD / _SASL_MECHANISM)"
                )
            if time.monotonic() > deadline:
                last = f": {self.errors[-1].str()}" if self.errors else ""
                raise SetupError(
                    f"cannot connect to Kafka at {self.bootstrap} as {self.who} within "
                    f"{self.timeout_s:.0f} s{last} (check KAFKA_BOOTSTRAP_SERVERS and "
                    "LINDUNG_KAFKA_SECURITY_PROTOCOL)"
                )

    def check_authorised(self) -> None:
        """SetupError unless the client may ALTER the cluster (users, ACLs) and CREATE topics.

        Asked first, because librdkafka 2.16 aborts the process when describing SCRAM users is
        refused, and describing ACLs without the right answers an empty list, not an error."""
        answer = self.client.describe_cluster(include_authorized_operations=True)
        allowed = self._result(answer, "describe the cluster").authorized_operations or []
        missing = [op.name for op in (AclOperation.ALTER, AclOperation.CREATE) if op not in allowed]
        if missing:
            raise SetupError(
                f"{self.who} is not authorised to set up the cluster (no {' or '.join(missing)} on it): "
                "run setup as a super user of the cluster (super.users, e.g. User:admin)"
            )

    def _result(self, future: Any, what: str) -> Any:

        try:
            return future.result(timeout=self.timeout_s)
        except KafkaException as exc:
            error: KafkaError = exc.args[0]
            refused = (KafkaError.CLUSTER_AUTHORIZATION_FAILED, KafkaError.TOPIC_AUTHORIZATION_FAILED)
            if error.code() in refused:
                raise SetupError(
                    f"{self.who} is not authorised to {what}: run setup as a super user of the cluster "
                    "(super.users, e.g. User:admin)"
                ) from exc
            if error.code() == KafkaError.SECURITY_DISABLED:
                raise SetupError(
                    f"the broker at {self.bootstrap} has no authorizer (authorizer.class.name): "
                    "see infra/kafka/sasl.properties"
                ) from exc
            raise SetupError(f"cannot {what}: {error.str()}") from exc

    def existing_grants(self) -> set[Grant]:
        # None matches any name, principal and host (the stubs say str).
        anything: Any = None
        every = AclBindingFilter(
            ResourceType.ANY,
            anything,
            ResourcePatternType.ANY,
            anything,
            anything,
            AclOperation.ANY,
            AclPermissionType.ANY,
        )
        bindings = self._result(self.client.describe_acls(every), "describe the ACLs")
        return {g for g in (_grant_of(b) for b in bindings) if g is not None}

    def create_acls(self, grants: Sequence[Grant]) -> None:
        if grants:
            for future in self.client.create_acls([_binding(g) for g in grants]).values():
                self._result(future, "create ACLs")

    def delete_acls(self, grants: Sequence[Grant]) -> None:
        if grants:
            for future in self.client.delete_acls([_binding(g, AclBindingFilter) for g in grants]).values():
                self._result(future, "delete ACLs")

    def scram_users(self) -> set[str]:
        answer = self._result(self.client.describe_user_scram_credentials(), "describe the SCRAM users")
        return set(answer)

    def upsert_users(self, credentials: Mapping[str, str]) -> None:
        info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS)
        upserts: list[UserScramCredentialAlteration] = [
            UserScramCredentialUpsertion(u, info, p.encode()) for u, p in credentials.items()
        ]
        if upserts:
            for future in self.client.alter_user_scram_credentials(upserts).values():
                self._result(future, "create SCRAM users")


def setup_cluster(
    admin: KafkaAdmin,
    credentials: Mapping[str, str],
    table: Sequence[Grant],
    create_topics: Callable[[], None],
    *,
    prune: bool = False,
) -> SetupReport:
    """Users, then ACLs, then topics; each step only what is missing, so a second run changes nothing
    (a password in the file is set again: SCRAM keeps no password to compare with)."""
    report = SetupReport()
    before = admin.check_connected()
    admin.check_authorised()
    users = admin.scram_users()
    admin.upsert_users(credentials)
    report.users_created = sorted(u for u in credentials if u not in users)
    report.users_updated = sorted(u for u in credentials if u in users)
    report.without_user = [p for p in dict.fromkeys(g.principal for g in table) if p not in credentials]
    present = admin.existing_grants()
    wanted = set(table)
    missing = [g for g in table if g not in present]
    admin.create_acls(missing)
    report.acls_created, report.acls_present = len(missing), len(wanted) - len(missing)
    ours = {g.principal for g in table}
    report.acls_extra = sorted(g for g in present - wanted if g.principal in ours)
    if prune:
        admin.delete_acls(report.acls_extra)
        report.acls_removed = len(report.acls_extra)
    create_topics()
    names = topics.all_topic_names()
    report.topics_created = [n for n in names if n not in before]
    report.topics_present = len(names) - len(report.topics_created)
    return report
