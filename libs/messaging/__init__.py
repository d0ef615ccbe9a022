"""Kafka adapters shared by every service: topics, the outbox relay, the inbox consumer."""
