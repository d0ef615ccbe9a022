"""Fixtures of the backbone tests: the session's `infra` (Apache Kafka), registered here so that its package
scope is this folder: a broker of this package's own, which no other package's consumer
groups ever reach."""

from __future__ import annotations

from tests.brokers import kafka_package_infra  # noqa: F401  (`infra`: Apache Kafka of this package's own)
