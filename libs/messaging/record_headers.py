"""What the consumer reads from a record's headers before its value: the records it may pass by
unparsed (issue 17: each record of a type the service does not take was parsed whole)."""

from __future__ import annotations

from aiokafka.structs import ConsumerRecord

from libs.events.catalog import event_types_on
from libs.events.signing import TrustedKey
from libs.events.topics import FOREIGN_TOPICS


def header_of(record: ConsumerRecord[bytes, bytes], name: str) -> str | None:
    """The text of the record's header `name` (None: absent or not UTF-8)."""
    for key, raw in record.headers or ():
        if key == name:
            try:
                text: str = raw.decode()
            except (UnicodeDecodeError, AttributeError):
                return None
            return text
    return None


def passes_by(
    record: ConsumerRecord[bytes, bytes], interested: frozenset[str], key: TrustedKey | None
) -> bool:
    """Whether the consumer may pass `record` by without parsing it: its `event_type` header (the
    relay writes it from the envelope it sends) names a type the handler does not take.

    A record is parsed as before where the header is absent (older rows, foreign producers),
    where its type is not published on a foreign topic (it is parked for that), or where it was
    signed (`key`) and its `producer` header is not the key's (the envelope's producer is then
    checked, and a wrong one parked). Passing a record by applies nothing, so a header that lies
    can at worst hide a copy whose event the inbox would take once from its true record."""
    declared = header_of(record, "event_type")
    if declared is None or declared in interested:
        return False
    if record.topic in FOREIGN_TOPICS and declared not in event_types_on(record.topic):
        return False
    return key is None or header_of(record, "producer") == key.producer
