"""Runtime configuration, read from environment variables (and `.env` when present).

Every tunable the programme office or an operator may change lives here or in a programme's
YAML file, never as a literal in domain code.
"""

from __future__ import annotations

from functools import cache

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    # The embedded broker forgets everything on stop: re-send stored events, inboxes drop repeats.
    republish_on_start: bool = False
    consumer_batch_size: int = 500
    consumer_max_attempts: int = 5
    consumer_retry_backoff_ms: int = 200
    outbox_batch_size: int = 1000
    outbox_poll_interval_ms: int = 50
    embedded_broker_port: int = 19092
    http_host: str = "127.0.0.1"
    http_port: int | None = None
    # Shifts every default service port (e.g. 1000: registry on 9101), to run two stacks side by side.
    port_offset: int = 0
    data_dir: str = "var"
    log_level: str = "INFO"
    # --- registry settings (add below) ---
    # --- allocation settings (add below) ---
    # --- enrollment and BPJS simulator settings (add below) ---
    # --- claims and dashboard settings (add below) ---
    # Pseudonymous worker ids are HMAC(pepper, NIK): keys on the bus never reveal a NIK.
    nik_pepper: str = "lindung-development-pepper-change-me"
    # A province programme nominates through the regency that issued the worker's NIK.
    nik_regency_must_match: bool = True
    bpjs_min_delay_ms: int = 0
    bpjs_max_delay_ms: int = 0
    bpjs_seed: int = 7
    bpjs_nik_not_found_per_million: int = 0
    bpjs_age_min: int = 15
    bpjs_age_max: int = 65

    def port_for(self, service: str) -> int:
        """The HTTP port of `service`: LINDUNG_HTTP_PORT when set for this process, else the default."""
        return self.http_port or SERVICE_PORTS[service] + self.port_offset


@cache
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return Settings()
