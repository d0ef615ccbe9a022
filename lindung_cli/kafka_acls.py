"""The principals of a secured Apache Kafka cluster and the ACL table that binds them (pure).

The ACL table is derived from libs/events/topics.py, never written by hand: a topic's producer
allow-list says who may WRITE it, a consumer group's subscriptions what it may READ. The broker then
refuses what the consumers' envelope check (`producer_refusal`) would otherwise have to park.

Principals (SCRAM user names):
- one per service, named as its consumer group (`registry`, ..., `bpjs_simulator`);
- `bpjs`, BPJS Ketenagakerjaan's gateway, reading what the simulator that plays it reads;
- who writes BPJS's topics (results, claims) is `settings.bpjs_producers` (passed in): `bpjs` by
  default; the simulator only where it is configured to speak for BPJS (development, tests);
- `regency-<kemendagri code>` (`regency-12.17`) per regency system, from libs/regions;
- `auditor`, who reads every topic and writes nothing.

Patterns are literal, except one group prefix per external system (`regency-12.17-`, `bpjs-`): an
integrator may run more consumer groups than one (a replies reader, a monitor) under names we do
not know. The prefix ends with "-" so that no system's prefix covers another's groups.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from string import Formatter
from typing import Literal

from libs.events import topics
from libs.regions.regions import all_regions

Resource = Literal["topic", "group"]
Pattern = Literal["literal", "prefixed"]
Operation = Literal["READ", "WRITE"]

AUDITOR = "auditor"
BPJS_GATEWAY = topics.BPJS_GATEWAY
# What the systems outside Lindung read. BPJS's gateway reads what the simulator playing it reads;
# a regency system reads the replies to its nominations.
EXTERNAL_READS: dict[str, tuple[str, ...]] = {
    BPJS_GATEWAY: topics.SUBSCRIPTIONS["bpjs_simulator"],
    topics.REGENCY_SYSTEM: (topics.NOMINATION_REPLIES,),
}


@dataclass(frozen=True, order=True)
class Grant:
    """One ALLOW ACL: `principal` may do `operation` on the topic or group `name` (from any host).

    READ implies DESCRIBE and WRITE implies DESCRIBE in Kafka's authorizer: no DESCRIBE grants."""

    principal: str
    resource: Resource
    name: str
    pattern: Pattern
    operation: Operation

    @property
    def kafka_principal(self) -> str:
        return f"User:{self.principal}"


def regency_principal(code: str) -> str:
    """The principal of a regency's system: `regency-12.17`."""
    return topics.REGENCY_SYSTEM.format(regency_code=code)


def regency_codes() -> tuple[str, ...]:
    return tuple(r.kemendagri_code for r in all_regions())


def _expand(entry: str, values: Mapping[str, Sequence[str]]) -> list[str]:
    """A producer allow-list entry as principals: a name is itself, a template one per value."""
    fields = [name for _, name, _, _ in Formatter().parse(entry) if name]
    if not fields:
        return [entry]
    (name,) = fields
    if name not in values:
        raise ValueError(f"no principals known for the template {entry!r} (field {name})")
    return [entry.format(**{name: value}) for value in values[name]]


def principals(
    codes: Sequence[str], bpjs_producers: Sequence[str] = topics.DEFAULT_BPJS_PRODUCERS
) -> tuple[str, ...]:
    """Every principal, in the table's order: services, BPJS (and any other producer configured
    to speak for it), regency systems, the auditor."""
    known = (*topics.CONSUMER_GROUPS, BPJS_GATEWAY)
    extra = tuple(dict.fromkeys(p for p in bpjs_producers if p not in known))
    return (*known, *extra, *(regency_principal(c) for c in codes), AUDITOR)


def _external_groups(principal: str) -> list[tuple[str, Pattern]]:
    return [(principal, "literal"), (f"{principal}-", "prefixed")]


def acl_table(
    codes: Sequence[str] | None = None, bpjs_producers: Sequence[str] = topics.DEFAULT_BPJS_PRODUCERS
) -> tuple[Grant, ...]:
    """Every ALLOW ACL of the cluster, derived from the topics' producers and the subscriptions;
    `bpjs_producers` (`settings.bpjs_producers`) write BPJS's topics."""
    codes = regency_codes() if codes is None else tuple(codes)
    values = {"regency_code": codes}
    grants: set[Grant] = set()
    for spec in topics.TOPICS:
        for entry in topics.allowed_producers(spec, bpjs_producers):
            grants |= {Grant(p, "topic", spec.name, "literal", "WRITE") for p in _expand(entry, values)}
    for group, reads in topics.SUBSCRIPTIONS.items():
        # A service parks what it cannot apply on its own dead-letter topic.
        grants.add(Grant(group, "topic", topics.dead_letter_topic(group), "literal", "WRITE"))
        grants |= {Grant(group, "topic", name, "literal", "READ") for name in reads}
        grants.add(Grant(group, "group", group, "literal", "READ"))
    for entry, reads in EXTERNAL_READS.items():
        for principal in _expand(entry, values):
            grants |= {Grant(principal, "topic", name, "literal", "READ") for name in reads}
            grants |= {Grant(principal, "group", g, p, "READ") for g, p in _external_groups(principal)}
    # The auditor reads without a consumer group (libs/audit/kafka_source.py, kcat -C): no group.
    grants |= {Grant(AUDITOR, "topic", name, "literal", "READ") for name in topics.all_topic_names()}
    order = {p: i for i, p in enumerate(principals(codes, bpjs_producers))}
    return tuple(sorted(grants, key=lambda g: (order[g.principal], g.resource, g.operation, g.name)))


def may(table: Iterable[Grant], principal: str, operation: Operation, resource: Resource, name: str) -> bool:
    """Whether the table lets `principal` do `operation` on `name`, as Kafka's authorizer decides."""
    return any(
        g.principal == principal
        and g.operation == operation
        and g.resource == resource
        and (g.name == name if g.pattern == "literal" else name.startswith(g.name))
        for g in table
    )


@dataclass(frozen=True)
class PrincipalRow:
    """One principal's rights, for people (`lindung kafka acls`, docs/kafka.md)."""

    principal: str
    writes: tuple[str, ...]
    reads: tuple[str, ...]
    groups: tuple[str, ...]


def rows(table: Sequence[Grant]) -> list[PrincipalRow]:
    by: dict[str, list[Grant]] = {}
    for grant in table:
        by.setdefault(grant.principal, []).append(grant)

    def names(grants: list[Grant], resource: Resource, operation: Operation) -> tuple[str, ...]:
        return tuple(
            g.name + ("*" if g.pattern == "prefixed" else "")
            for g in grants
            if g.resource == resource and g.operation == operation
        )

    return [
        PrincipalRow(p, names(gs, "topic", "WRITE"), names(gs, "topic", "READ"), names(gs, "group", "READ"))
        for p, gs in by.items()
    ]


def markdown(table: Sequence[Grant]) -> str:
    lines = ["| principal | writes (topics) | reads (topics) | consumer groups |", "|---|---|---|---|"]
    for row in rows(table):
        cells = [", ".join(f"`{n}`" for n in names) or "-" for names in (row.writes, row.reads, row.groups)]
        lines.append(f"| `{row.principal}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
