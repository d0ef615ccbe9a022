"""The tests' helpers, one of each: `envelopes.envelope_of` builds an envelope as a producer
would, `kafka.produce` publishes envelopes or raw bytes (signed when asked) to a topic, and
`stack.in_process_stack` starts services in-process on a fresh, migrated database with the
topics, settings and HTTP clients a test package needs."""
