"""Topic names. Streams are versioned in the name so that a breaking change gets a new topic."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

REGISTRY = "lindung.registry.v1"
ALLOCATION = "lindung.allocation.v1"
ENROLLMENT = "lindung.enrollment.v1"
CLAIMS = "lindung.claims.v1"
NOMINATIONS_INBOUND = "lindung.nominations.inbound.v1"
NOMINATION_REPLIES = "lindung.nominations.replies.v1"
BPJS_REQUESTS = "lindung.bpjs.requests.v1"
BPJS_RESULTS = "lindung.bpjs.results.v1"
BPJS_CLAIMS = "lindung.bpjs.claims.v1"
AUDIT_CHECKPOINTS = "lindung.audit.checkpoints.v1"


@dataclass(frozen=True)
class TopicSpec:
    """One topic: its name, who may write to it, and what it carries.

    `producers` is the allow-list consumers check every envelope's `producer` against (see
    `producer_refusal`). An entry is a name (`registry`) or a template with one placeholder naming
    a payload field (`regency-{regency_code}`): the producer `regency-12.17` may then only send
    payloads whose `regency_code` is `12.17`.
    """

    name: str
    producers: tuple[str, ...]
    description: str
    # The producers are those that speak for BPJS (`settings.bpjs_producers`), not `producers`.
    written_by_bpjs: bool = False


# A regency system names itself after its regency. Who speaks for BPJS on its topics is a
# setting (`LINDUNG_BPJS_PRODUCERS`, default BPJS's gateway `bpjs` alone): the simulator, which
# writes as the service it is, plays BPJS only where it is configured to (development, tests).
REGENCY_SYSTEM = "regency-{regency_code}"
BPJS_GATEWAY = "bpjs"
DEFAULT_BPJS_PRODUCERS: tuple[str, ...] = (BPJS_GATEWAY,)

TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(REGISTRY, ("registry",), "Nominations and their validation, keyed by worker id."),
    TopicSpec(ALLOCATION, ("allocation",), "Programmes, quota decisions and decrees."),
    TopicSpec(ENROLLMENT, ("enrollment",), "Registrations at BPJS, coverage and premiums."),
    TopicSpec(CLAIMS, ("claims",), "Claims recorded and flagged."),
    TopicSpec(
        NOMINATIONS_INBOUND,
        (REGENCY_SYSTEM,),
        "Nominations published by regency systems, each for its own regency only.",
    ),
    TopicSpec(NOMINATION_REPLIES, ("registry",), "Accepted/rejected replies to inbound nominations."),
    TopicSpec(BPJS_REQUESTS, ("enrollment",), "Requests to BPJS Ketenagakerjaan (registration)."),
    TopicSpec(
        BPJS_RESULTS, (BPJS_GATEWAY,), "Answers from BPJS Ketenagakerjaan to requests.", written_by_bpjs=True
    ),
    TopicSpec(
        BPJS_CLAIMS,
        (BPJS_GATEWAY,),
        "Claims paid by BPJS Ketenagakerjaan, pushed to Lindung.",
        written_by_bpjs=True,
    ),
    TopicSpec(
        AUDIT_CHECKPOINTS,
        ("registry", "allocation", "enrollment", "claims"),
        "Signed checkpoints of each event store's stream heads (libs/audit/checkpoint.py); not envelopes.",
    ),
)

# What each consumer group reads: one subscriber per service takes all of its topics.
SUBSCRIPTIONS: dict[str, tuple[str, ...]] = {
    "registry": (ALLOCATION, ENROLLMENT, NOMINATIONS_INBOUND),
    "allocation": (REGISTRY, ENROLLMENT),
    "enrollment": (ALLOCATION, BPJS_RESULTS, REGISTRY),  # the registry's: PersonForgotten
    "claims": (ENROLLMENT, BPJS_CLAIMS),
    "bpjs_simulator": (BPJS_REQUESTS,),
    "dashboard": (REGISTRY, ALLOCATION, ENROLLMENT, CLAIMS),
}
CONSUMER_GROUPS = tuple(SUBSCRIPTIONS)


# Topics written by systems outside Lindung (regency systems, BPJS). Their contracts are a
# published interface: an event type not among them is the sender's mistake, to be parked and
# answered, not skipped as a newer Lindung service's event would be on an internal topic.
FOREIGN_TOPICS = frozenset({NOMINATIONS_INBOUND, BPJS_RESULTS, BPJS_CLAIMS})


def dead_letter_topic(consumer_group: str) -> str:
    """The dead-letter topic where `consumer_group` parks messages it cannot apply."""
    return f"lindung.{consumer_group}.dlq.v1"


def all_topic_names() -> list[str]:
    """Every topic Lindung creates at start, dead-letter topics included."""
    return [t.name for t in TOPICS] + [dead_letter_topic(g) for g in CONSUMER_GROUPS]


# --- who may write to a topic -----------------------------------------------------------------

PRODUCER_NOT_ALLOWED = "PRODUCER_NOT_ALLOWED"
PRODUCER_OUT_OF_SCOPE = "PRODUCER_OUT_OF_SCOPE"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class ProducerRefused(Exception):
    """An envelope whose producer may not write it: parked by the consumer, never applied.

    `code` is stable (PRODUCER_NOT_ALLOWED, PRODUCER_OUT_OF_SCOPE); `message` is for officers
    (Indonesian); `details` names the topic, the producer and, for a scope, the field and values.
    """

    def __init__(self, code: str, message: str, details: dict[str, str]) -> None:
        super().__init__(f"{code}: {details}")
        self.code = code
        self.message = message
        self.details = details


@dataclass(frozen=True)
class _ProducerRule:
    names: frozenset[str]
    # (prefix, suffix, payload field) of each template entry.
    templates: tuple[tuple[str, str, str], ...]

    @classmethod
    def of(cls, producers: tuple[str, ...]) -> _ProducerRule:
        names: set[str] = set()
        templates: list[tuple[str, str, str]] = []
        for entry in producers:
            found = _PLACEHOLDER.search(entry)
            if found is None:
                names.add(entry)
            else:
                templates.append((entry[: found.start()], entry[found.end() :], found.group(1)))
        return cls(frozenset(names), tuple(templates))


_SPECS: dict[str, TopicSpec] = {spec.name: spec for spec in TOPICS}


def allowed_producers(spec: TopicSpec, bpjs_producers: Sequence[str]) -> tuple[str, ...]:
    """The allow-list of `spec`: its own, or on BPJS's topics the producers that speak for BPJS."""
    return tuple(bpjs_producers) if spec.written_by_bpjs else spec.producers


@lru_cache(maxsize=64)
def _rule(topic: str, bpjs_producers: tuple[str, ...]) -> _ProducerRule | None:
    spec = _SPECS.get(topic)
    return None if spec is None else _ProducerRule.of(allowed_producers(spec, bpjs_producers))


def producer_refusal(
    topic: str,
    producer: str,
    payload: Mapping[str, Any],
    bpjs_producers: Sequence[str] = DEFAULT_BPJS_PRODUCERS,
) -> ProducerRefused | None:
    """Why `producer` may not have written `payload` on `topic`, or None when it may.

    `bpjs_producers` are those that speak for BPJS (`settings.bpjs_producers`, passed in by the
    entrypoint). Topics Lindung does not declare (tests' own topics) have no allow-list and pass.
    """
    rule = _rule(topic, tuple(bpjs_producers))
    if rule is None or producer in rule.names:
        return None
    for prefix, suffix, field in rule.templates:
        if not (producer.startswith(prefix) and producer.endswith(suffix)):
            continue
        bound = producer[len(prefix) : len(producer) - len(suffix)]
        if not bound:
            continue
        value = payload.get(field)
        if value == bound:
            return None
        return ProducerRefused(
            PRODUCER_OUT_OF_SCOPE,
            f"Sistem {producer} hanya boleh mengirim data untuk {field} {bound}; "
            f"pesan ini berisi {field} {value if isinstance(value, str) else '(kosong)'}.",
            {"topic": topic, "producer": producer, "field": field, "allowed": bound, "sent": str(value)},
        )
    allowed = ", ".join(sorted(rule.names) + [f"{p}<{f}>{s}" for p, s, f in rule.templates])
    return ProducerRefused(
        PRODUCER_NOT_ALLOWED,
        f"Pengirim '{producer}' tidak berhak menulis ke topik {topic} (yang berhak: {allowed}).",
        {"topic": topic, "producer": producer, "allowed": allowed},
    )
