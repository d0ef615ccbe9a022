"""Topic names. Streams are versioned in the name so that a breaking change gets a new topic."""

from __future__ import annotations

from dataclasses import dataclass

REGISTRY = "lindung.registry.v1"
ALLOCATION = "lindung.allocation.v1"
ENROLLMENT = "lindung.enrollment.v1"
CLAIMS = "lindung.claims.v1"
NOMINATIONS_INBOUND = "lindung.nominations.inbound.v1"
NOMINATION_REPLIES = "lindung.nominations.replies.v1"
BPJS_REQUESTS = "lindung.bpjs.requests.v1"
BPJS_RESULTS = "lindung.bpjs.results.v1"
BPJS_CLAIMS = "lindung.bpjs.claims.v1"


@dataclass(frozen=True)
class TopicSpec:
    """One topic: its name, who writes to it, and what it carries."""

    name: str
    producers: tuple[str, ...]
    description: str


TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(REGISTRY, ("registry",), "Nominations and their validation, keyed by worker id."),
    TopicSpec(ALLOCATION, ("allocation",), "Programmes, quota decisions and decrees."),
    TopicSpec(ENROLLMENT, ("enrollment",), "Registrations at BPJS, coverage and premiums."),
    TopicSpec(CLAIMS, ("claims",), "Claims recorded and flagged."),
    TopicSpec(NOMINATIONS_INBOUND, ("regency",), "Nominations published by regency systems."),
    TopicSpec(NOMINATION_REPLIES, ("registry",), "Accepted/rejected replies to inbound nominations."),
    TopicSpec(BPJS_REQUESTS, ("enrollment",), "Requests to BPJS Ketenagakerjaan (registration)."),
    TopicSpec(BPJS_RESULTS, ("bpjs",), "Answers from BPJS Ketenagakerjaan to requests."),
    TopicSpec(BPJS_CLAIMS, ("bpjs",), "Claims paid by BPJS Ketenagakerjaan, pushed to Lindung."),
)

# What each consumer group reads: one subscriber per service takes all of its topics.
SUBSCRIPTIONS: dict[str, tuple[str, ...]] = {
    "registry": (ALLOCATION, ENROLLMENT, NOMINATIONS_INBOUND),
    "allocation": (REGISTRY, ENROLLMENT),
    "enrollment": (ALLOCATION, BPJS_RESULTS),
    "claims": (ENROLLMENT, BPJS_CLAIMS),
    "bpjs_simulator": (BPJS_REQUESTS,),
    "dashboard": (REGISTRY, ALLOCATION, ENROLLMENT, CLAIMS),
}
CONSUMER_GROUPS = tuple(SUBSCRIPTIONS)


def dead_letter_topic(consumer_group: str) -> str:
    """The dead-letter topic where `consumer_group` parks messages it cannot apply."""
    return f"lindung.{consumer_group}.dlq.v1"


def all_topic_names() -> list[str]:
    """Every topic Lindung creates at start, dead-letter topics included."""
    return [t.name for t in TOPICS] + [dead_letter_topic(g) for g in CONSUMER_GROUPS]
