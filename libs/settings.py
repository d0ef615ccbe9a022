"""Runtime configuration, read from environment variables (and `.env` when present).

Every tunable the programme office or an operator may change lives here or in a programme's
YAML file, never as a literal in domain code.
"""

from __future__ import annotations

from functools import cache
from typing import Any, ClassVar, Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from libs.premium_rates import JKK_PER_MONTH, JKM_PER_MONTH

SERVICE_PORTS: dict[str, int] = {
    "dashboard": 8100,
    "registry": 8101,
    "allocation": 8102,
    "enrollment": 8103,
    "claims": 8104,
    "bpjs_simulator": 8105,
}


class Settings(BaseSettings):
    """Settings shared by every Lindung process."""

    model_config = SettingsConfigDict(env_prefix="LINDUNG_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "LINDUNG_DATABASE_URL"),
        description="SQLAlchemy URL (postgresql+asyncpg://...). Unset: `lindung up` embeds one.",
    )
    kafka_bootstrap_servers: str | None = Field(
        default=None,
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "LINDUNG_KAFKA_BOOTSTRAP_SERVERS"),
        description="host:port[,host:port]. Unset: `lindung up` embeds a Tansu broker.",
    )
    topic_partitions: int = 4
    topic_replication: int = 1
    kafka_session_timeout_ms: int = 10_000
    kafka_heartbeat_interval_ms: int = 3_000
    # Tansu answers InitProducerId with an error; Apache Kafka deployments should turn this on.
    kafka_idempotence: bool = False
    # How every Kafka client (producers, consumers, admin, the audit reader) reaches the broker
    # (docs/kafka.md): PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL; SCRAM-SHA-512, SCRAM-SHA-256 or
    # PLAIN; the CA that signed the broker's certificate, and a client certificate for mutual TLS.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: str | None = None
    kafka_ssl_certfile: str | None = None
    kafka_ssl_keyfile: str | None = None
    # Topic retention set when `lindung topics create` (or a service start) creates a topic, and
    # applied to existing topics by `lindung topics create`: -1 keeps for ever (the event stores
    # are the record; topics are the transport). Unset: the broker's default.
    kafka_topic_retention_ms: int | None = None
    kafka_topic_retention_bytes: int | None = None
    # A topic's segment size (`segment.bytes`): Kafka deletes whole closed segments only, so with
    # its 1 GiB default a per-partition retention.bytes below that deletes nothing (`make soak`
    # sets 8 MiB; docs/kafka.md "A long run"). Unset: the broker's default. Kafka 4 refuses < 1 MiB.
    kafka_topic_segment_bytes: int | None = None
    # The embedded broker forgets everything on stop: re-send stored events, inboxes drop repeats.
    republish_on_start: bool = False
    # --- Kafka client tuning (relay and Kafka settings; docs/kafka.md "Tuning") ---
    # LINDUNG_KAFKA_TUNING picks the defaults of the five settings below; each one set on its own
    # wins. `latency`: short idle hops (each costs about fetch wait + 2 x batch timeout, as
    # faststream sleeps the batch timeout again after an empty poll), more polls when idle;
    # `throughput`: fuller fetches and producer batches, fewer requests, longer idle hops.
    kafka_tuning: Literal["latency", "throughput"] = "latency"
    KAFKA_TUNINGS: ClassVar[dict[str, dict[str, int]]] = {
        "latency": {
            "kafka_fetch_max_wait_ms": 20,
            "consumer_batch_timeout_ms": 5,
            "consumer_batch_size": 500,
            "kafka_linger_ms": 0,
            "kafka_max_batch_bytes": 256 * 1024,
        },
        "throughput": {
            "kafka_fetch_max_wait_ms": 200,
            "consumer_batch_timeout_ms": 50,
            "consumer_batch_size": 2000,
            "kafka_linger_ms": 10,
            "kafka_max_batch_bytes": 1024 * 1024,
        },
    }
    # Records per consumer batch (one transaction), the broker's longest wait for records, and
    # faststream's wait for a batch (then again as a sleep after an empty poll).
    consumer_batch_size: int = 500
    kafka_fetch_max_wait_ms: int = 20
    consumer_batch_timeout_ms: int = 5
    # The producers' wait for more records to batch, and the most bytes of one partition's batch.
    kafka_linger_ms: int = 0
    kafka_max_batch_bytes: int = 256 * 1024

    @model_validator(mode="before")
    @classmethod
    def _tuned_defaults(cls, data: Any) -> Any:
        """The chosen tuning's values for the Kafka settings not set on their own."""
        if not isinstance(data, dict):
            return data
        tuning = str(data.get("kafka_tuning") or "latency")
        return {**cls.KAFKA_TUNINGS.get(tuning, {}), **data}

    # --- end of Kafka client tuning ---
    consumer_max_attempts: int = 5
    consumer_retry_backoff_ms: int = 200
    outbox_batch_size: int = 1000
    outbox_poll_interval_ms: int = 50
    # The broker `lindung up` embeds when KAFKA_BOOTSTRAP_SERVERS is unset: Tansu (in memory, no
    # Java) or Apache Kafka (a KRaft node, data on disk in <data_dir>/kafka; needs Java and Maven).
    broker: Literal["tansu", "kafka"] = "tansu"
    embedded_broker_port: int = 19092
    http_host: str = "127.0.0.1"
    http_port: int | None = None
    # Shifts every default service port (e.g. 1000: registry on 9101), to run two stacks side by side.
    port_offset: int = 0
    data_dir: str = "var"
    log_level: str = "INFO"
    # A simulated business calendar (libs/clock.py): a file holding one ISO instant every process
    # reads as "now" for dates (programme periods, billing, lapses). Unset: the system clock.
    business_clock_file: str | None = None
    # --- heap trimming (libs/runtime/heap.py; docs/architecture.md "Memory on a long run") ---
    # Every this many seconds a service returns the C heap's free pages to the system
    # (malloc_trim, glibc only) when at least heap_trim_min_free_mib lie free in it. 0: never.
    heap_trim_interval_s: float = 5.0
    heap_trim_min_free_mib: int = 8
    # --- registry settings (add below) ---
    # Rows of a nomination upload decided per transaction, and the most rows one upload may hold.
    registry_upload_batch_size: int = 500
    registry_upload_max_rows: int = 50_000
    # --- allocation settings (add below) ---
    # Programme states the allocation cache keeps between transactions (the least recently used
    # leaves first and is rebuilt from its events when next loaded): each holds every worker of
    # its programme, and one programme is a province-year at most. A year runs the province's
    # programme and the regencies' own (APBD, DBH Sawit): a few dozen at once, all kept.
    allocation_programme_states: int = 64
    # --- enrollment and BPJS simulator settings (add below) ---
    # Enrollment (docs/enrollment.md). Calendar days (enrolled_on, paid_on, lapses) are taken here.
    enrollment_timezone: str = "Asia/Jakarta"
    # BPJS must answer an attempt within this; then it counts as a retryable failure (TIMEOUT).
    enrollment_answer_timeout_s: int = 300
    # Registration and payment retries: attempts in all, backoff doubling from base up to max.
    enrollment_retry_max_attempts: int = 5
    enrollment_retry_base_s: int = 60
    enrollment_retry_max_s: int = 3600
    # Unpaid months still covered after the last paid month (DOMAIN.md: none; verify with BPJS).
    enrollment_grace_months: int = 0
    # BPU arrears: consecutive unpaid months that may still be paid (restoring coverage); one
    # more ends the membership (DOMAIN.md "Money": 3).
    enrollment_arrears_months: int = 3
    # Premiums when the programme's definition is unknown to enrollment (it carries its own).
    enrollment_premium_jkk: int = JKK_PER_MONTH
    enrollment_premium_jkm: int = JKM_PER_MONTH
    # A bill line lists at most this many workers (one payment request each; keeps messages small).
    enrollment_bill_max_workers: int = 5_000
    # How often due timeouts and retries are looked for; how often lapses are recorded (0: never).
    enrollment_clock_interval_ms: int = 500
    enrollment_lapse_check_interval_s: int = 3_600
    # BPJS simulator (docs/bpjs-contract.md, "The simulator"). Rates are per million (integers).
    bpjs_min_delay_ms: int = 0
    bpjs_max_delay_ms: int = 0
    bpjs_seed: int = 7
    bpjs_nik_not_found_per_million: int = 0
    bpjs_age_min: int = 15
    bpjs_age_max: int = 65
    # Retryable refusals (Dukcapil unreachable), answers sent twice, answers held back (overtaken).
    bpjs_transient_error_per_million: int = 0
    bpjs_duplicate_per_million: int = 0
    bpjs_late_per_million: int = 0
    bpjs_late_delay_ms: int = 2_000
    # The premium BPJS expects per participant and month (JKK lowest bracket + JKM).
    bpjs_premium_jkk: int = JKK_PER_MONTH
    bpjs_premium_jkm: int = JKM_PER_MONTH
    # BPU arrears BPJS still takes; one more consecutive unpaid month ends the membership.
    bpjs_arrears_months: int = 3
    # How often held answers are checked for release.
    bpjs_release_interval_ms: int = 50
    # --- claims and dashboard settings (add below) ---
    # API keys (libs/auth): JSON list of {"key_sha256", "role", "regency"?, "name"}. Empty means
    # development: every caller is province_admin (said at start-up in the log).
    api_keys: str = ""
    # True: a service using libs/auth refuses to start without API keys (production).
    auth_required: bool = False
    # Signs dashboard session cookies; unset: a random secret per process (sessions end at restart).
    session_secret: str | None = None
    session_hours: int = 8
    dashboard_poll_seconds: int = 10
    # Pseudonymous worker ids are HMAC(pepper, NIK): keys on the bus never reveal a NIK.
    nik_pepper: str = "lindung-development-pepper-change-me"
    # --- security settings (docs/security.md) ---
    # Development only (the embedded demo, tests): a service may then run without API keys,
    # signing keys, a session secret or a pepper of its own. Unset, a service refuses to start
    # without them.
    dev_mode: bool = False
    # Signed events (libs/events/signing.py): this process's Ed25519 private key (PEM file) and
    # the id its keyring entry has; the keyring (JSON file of public keys and whom each speaks
    # for) every consumer verifies with. No keyring: signatures are not checked (dev mode only).
    event_signing_key_file: str | None = None
    event_signing_key_id: str | None = None
    event_keyring_file: str | None = None
    # Producers that speak for BPJS Ketenagakerjaan on its topics (results, claims). The
    # simulator is one only where it is configured so (development, tests), never by default.
    bpjs_producers: tuple[str, ...] = ("bpjs",)
    # --- tamper evidence (docs/security.md "Tamper evidence") ---
    # Migrations and `lindung db roles` connect as the schemas' owner; services connect with
    # DATABASE_URL as their own role (INSERT/SELECT on events). Unset: DATABASE_URL does both.
    database_owner_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("LINDUNG_DATABASE_OWNER_URL", "LINDUNG_DATABASE_MIGRATION_URL"),
    )
    # `lindung audit` connects as this (a SELECT-only role) when set; else DATABASE_URL.
    audit_database_url: str | None = None
    # The roles `lindung db roles` creates: <prefix><service> and <prefix>auditor (cluster-wide names).
    database_role_prefix: str = "lindung_"
    # Signed checkpoints of the event-store heads (libs/audit/checkpoint.py): every N seconds
    # (0: off) each service appends one to <audit_checkpoint_dir>/<schema>.jsonl and publishes
    # it on lindung.audit.checkpoints.v1. Unset dir: <data_dir>/checkpoints.
    audit_checkpoint_interval_s: int = 3600
    audit_checkpoint_dir: str | None = None
    # --- forgetting a person (docs/security.md "Forgetting a person") ---
    # The key wrapping every person's data key (64 hex digits or base64 of 32 bytes; `openssl
    # rand -hex 32`). Set: personal fields are stored encrypted per person and `lindung privacy
    # forget` destroys a person's key. Unset: stored as they are (development only).
    privacy_master_key: SecretStr | None = None
    # Sent outbox rows are deleted this many hours after the broker took them (0: kept for ever;
    # never with republish_on_start, which refills the embedded broker from them); checked
    # every privacy_prune_interval_s.
    privacy_outbox_retention_hours: float = 0
    # Dead letters parked from foreign topics (clear personal data) are deleted after this many
    # days (0: kept for ever).
    privacy_foreign_dead_letter_retention_days: float = 0
    privacy_prune_interval_s: float = 3600

    # --- input limits (docs/security.md "Input limits") ---
    # Most bytes a request body may carry, refused (413) before it is read: from Content-Length,
    # and while a body without one streams in.
    http_max_body_bytes: int = 20 * 1024 * 1024
    # An uploaded XLSX is a zip: its members' declared uncompressed sizes (in total) and the
    # ratio of uncompressed to compressed size are checked before openpyxl opens it.
    upload_max_uncompressed_bytes: int = 200 * 1024 * 1024
    upload_max_compression_ratio: int = 250

    def port_for(self, service: str) -> int:
        """The HTTP port of `service`: LINDUNG_HTTP_PORT when set for this process, else the default."""
        return self.http_port or SERVICE_PORTS[service] + self.port_offset


@cache
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return Settings()
