"""docker-compose.yml and the Dockerfile stay valid without a Docker engine.

The compose file is parsed with PyYAML (merge keys resolved) and checked against the code that
reads its values: `libs.settings.Settings` and `SERVICE_PORTS`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import AliasChoices

from libs.settings import SERVICE_PORTS, Settings

ROOT = Path(__file__).resolve().parents[3]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
IMAGE = "lindung:latest"

# Python module under services/ -> compose service name.
APP_SERVICES = {
    "registry": "registry",
    "allocation": "allocation",
    "enrollment": "enrollment",
    "claims": "claims",
    "bpjs_simulator": "bpjs-simulator",
    "dashboard": "dashboard",
}
SCALED = ("allocation", "enrollment")
ALIASED = {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"}

_INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    svcs = compose["services"]
    assert isinstance(svcs, dict)
    return svcs


def _env(service: dict[str, Any]) -> dict[str, Any]:
    env = service.get("environment") or {}
    assert isinstance(env, dict), "environment must be a mapping (merge keys need it)"
    return env


def _interpolate(value: str) -> str:
    """Compose's `${X:-default}` / `${X:?error}` / `$$`, every X unset."""

    def one(match: re.Match[str]) -> str:
        op, arg = match["op"], match["arg"]
        if op and op.endswith("-"):
            return str(arg)
        if op and op.endswith("?"):
            return "required-in-test"
        return ""

    return _INTERPOLATION.sub(one, value.replace("$$", "\0")).replace("\0", "$")


def _accepted_env_names() -> set[str]:
    """Every environment variable name Settings reads."""
    names: set[str] = set()
    prefix = str(Settings.model_config.get("env_prefix", ""))
    for field_name, info in Settings.model_fields.items():
        alias = info.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(c for c in alias.choices if isinstance(c, str))
        elif isinstance(alias, str):
            names.add(alias)
        else:
            names.add(f"{prefix}{field_name}".upper())
    return names


def _lindung_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in services.items() if svc.get("image") == IMAGE}


def _command(service: dict[str, Any]) -> list[str]:
    cmd = service.get("command")
    return cmd.split() if isinstance(cmd, str) else list(cmd or [])


def _depends_on(service: dict[str, Any]) -> dict[str, str | None]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps)
    return {name: (spec or {}).get("condition") for name, spec in deps.items()}


# --- services ------------------------------------------------------------------------------------


def test_every_service_process_is_a_compose_service(services: dict[str, dict[str, Any]]) -> None:
    for module, compose_name in APP_SERVICES.items():
        assert compose_name in services, f"no compose service for services.{module}"
        assert (ROOT / "services" / module / "__init__.py").is_file(), f"services/{module} is gone"
    # A process added later (services/<x>/__main__.py) must be added here too.
    normalised = {name.replace("-", "_") for name in services}
    for main in sorted((ROOT / "services").glob("*/__main__.py")):
        assert main.parent.name in normalised, f"services/{main.parent.name} has no compose service"


def test_app_services_run_their_module_from_the_shared_image(services: dict[str, dict[str, Any]]) -> None:
    for module, compose_name in APP_SERVICES.items():
        svc = services[compose_name]
        assert svc.get("build") == ".", compose_name
        assert svc.get("image") == IMAGE, compose_name
        assert _command(svc) == ["python", "-m", f"services.{module}"], compose_name
        assert svc.get("restart") == "unless-stopped", compose_name
    # Only the five processes and the migrate job use the Lindung image.
    assert set(_lindung_services(services)) == {*APP_SERVICES.values(), "migrate"}


def test_http_ports_match_service_ports(services: dict[str, dict[str, Any]]) -> None:
    for module, compose_name in APP_SERVICES.items():
        env = _env(services[compose_name])
        assert int(env["LINDUNG_HTTP_PORT"]) == SERVICE_PORTS[module], compose_name
        assert env["LINDUNG_HTTP_HOST"] == "0.0.0.0", compose_name


def test_published_ports_are_loopback_only_and_match(services: dict[str, dict[str, Any]]) -> None:
    published = 0
    for name, svc in services.items():
        for port in svc.get("ports") or []:
            assert isinstance(port, str), f"{name}: use 'host_ip:host:container' strings"
            host_ip, host_port, container_port = port.split(":")
            assert host_ip == "127.0.0.1", f"{name} publishes {port} beyond loopback"
            if name in _lindung_services(services):
                assert int(container_port) == int(_env(svc)["LINDUNG_HTTP_PORT"]), name
                assert host_port == container_port, name
            published += 1
    assert published >= 3


def test_scaled_services_have_replicas_and_no_fixed_host_port(services: dict[str, dict[str, Any]]) -> None:
    for name in SCALED:
        svc = services[name]
        assert svc["deploy"]["replicas"] == 1, name
        assert not svc.get("ports"), f"{name} scales out: a fixed host port would clash"


def test_app_services_have_a_python_health_check(services: dict[str, dict[str, Any]]) -> None:
    for compose_name in APP_SERVICES.values():
        test = services[compose_name]["healthcheck"]["test"]
        assert test[0] == "CMD" and test[1] == "python", compose_name
        script = test[-1]
        assert "http://localhost:" in script and "/health" in script, compose_name
        assert "curl" not in " ".join(test), compose_name


def test_app_services_wait_for_migrate(services: dict[str, dict[str, Any]]) -> None:
    for compose_name in APP_SERVICES.values():
        deps = _depends_on(services[compose_name])
        assert deps.get("migrate") == "service_completed_successfully", compose_name


# --- environment ---------------------------------------------------------------------------------


def test_every_lindung_env_var_is_read_by_settings(services: dict[str, dict[str, Any]]) -> None:
    accepted = _accepted_env_names()
    assert {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "LINDUNG_HTTP_PORT"} <= accepted
    seen: set[str] = set()
    for name, svc in services.items():
        for var in _env(svc):
            if var.startswith("LINDUNG_") or var in ALIASED:
                seen.add(var)
                assert var in accepted, f"{name}: {var} is not a Settings field"
                if var not in ALIASED:
                    assert var.removeprefix("LINDUNG_").lower() in Settings.model_fields, var
    for name, svc in _lindung_services(services).items():
        stray = set(_env(svc)) - accepted
        assert not stray, f"{name} sets variables no Lindung code reads: {sorted(stray)}"
    assert {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "LINDUNG_NIK_PEPPER"} <= seen


def test_env_values_are_strings_or_numbers(services: dict[str, dict[str, Any]]) -> None:
    # Compose rejects YAML booleans in `environment`: "true"/"false" must be quoted.
    for name, svc in services.items():
        for var, value in _env(svc).items():
            assert isinstance(value, str | int | float) and not isinstance(value, bool), (name, var)


def test_required_values(services: dict[str, dict[str, Any]]) -> None:
    for compose_name in APP_SERVICES.values():
        env = _env(services[compose_name])
        assert env["DATABASE_URL"] == (
            "postgresql+asyncpg://${POSTGRES_USER:-lindung}:${POSTGRES_PASSWORD:-lindung}@postgres:5432/lindung"
        )
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert env["LINDUNG_KAFKA_IDEMPOTENCE"] == "true"
        assert env["LINDUNG_REPUBLISH_ON_START"] == "false"
        assert env["LINDUNG_TOPIC_PARTITIONS"] == "${LINDUNG_TOPIC_PARTITIONS:-8}"
        # No default pepper: compose refuses to start without one.
        assert env["LINDUNG_NIK_PEPPER"].startswith("${LINDUNG_NIK_PEPPER:?"), compose_name


@pytest.mark.parametrize("module", sorted(APP_SERVICES))
def test_settings_parse_each_service_environment(
    services: dict[str, dict[str, Any]], module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in list(os.environ):
        if var.startswith("LINDUNG_") or var in ALIASED:
            monkeypatch.delenv(var)
    for var, value in _env(services[APP_SERVICES[module]]).items():
        monkeypatch.setenv(var, _interpolate(str(value)))
    settings = Settings(_env_file=None)
    assert settings.port_for(module) == SERVICE_PORTS[module]
    assert settings.http_host == "0.0.0.0"
    assert settings.kafka_idempotence is True
    assert settings.republish_on_start is False
    assert settings.topic_partitions == 8
    assert settings.topic_replication == 1
    assert settings.kafka_bootstrap_servers == "kafka:9092"
    assert settings.database_url == "postgresql+asyncpg://lindung:lindung@postgres:5432/lindung"
    assert settings.nik_pepper == "required-in-test"


def test_database_url_matches_postgres_service(services: dict[str, dict[str, Any]]) -> None:
    pg = _env(services["postgres"])
    url = _interpolate(_env(services["registry"])["DATABASE_URL"])
    user, password, db = (
        _interpolate(str(pg[k])) for k in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB")
    )
    assert url == f"postgresql+asyncpg://{user}:{password}@postgres:5432/{db}"


# --- infrastructure ------------------------------------------------------------------------------


def test_kafka_is_kraft_single_node(services: dict[str, dict[str, Any]]) -> None:
    assert not any("zookeeper" in name.lower() for name in services)
    assert not any("zookeeper" in str(svc.get("image", "")).lower() for svc in services.values())
    kafka = services["kafka"]
    assert kafka["image"] == "apache/kafka:3.9.0"
    env = _env(kafka)
    assert not any("ZOOKEEPER" in var for var in env)
    roles = {r.strip() for r in env["KAFKA_PROCESS_ROLES"].split(",")}
    assert roles == {"broker", "controller"}
    node_id = str(env["KAFKA_NODE_ID"])
    voters = env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")
    assert [v.split("@")[0] for v in voters] == [node_id]
    assert voters[0].endswith(":9093")
    assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] == "CONTROLLER"
    assert env["KAFKA_LISTENERS"] == "PLAINTEXT://:9092,CONTROLLER://:9093"
    protocols = dict(p.split(":") for p in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    assert protocols == {"CONTROLLER": "PLAINTEXT", "PLAINTEXT": "PLAINTEXT"}
    assert str(env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"]) == "1"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    # The services connect to exactly what the broker advertises.
    advertised = env["KAFKA_ADVERTISED_LISTENERS"]
    assert advertised == "PLAINTEXT://kafka:9092"
    for name, svc in _lindung_services(services).items():
        assert f"PLAINTEXT://{_env(svc)['KAFKA_BOOTSTRAP_SERVERS']}" == advertised, name


def test_kafka_and_postgres_have_health_checks(services: dict[str, dict[str, Any]]) -> None:
    kafka_test = " ".join(services["kafka"]["healthcheck"]["test"])
    assert "/opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server localhost:9092" in kafka_test
    pg = services["postgres"]
    assert pg["image"] == "postgres:16"
    assert "pg_isready" in " ".join(pg["healthcheck"]["test"])
    assert _env(pg)["POSTGRES_DB"] == "lindung"
    assert any(str(v).endswith(":/var/lib/postgresql/data") for v in pg["volumes"])


def test_migrate_runs_once_after_infrastructure(services: dict[str, dict[str, Any]]) -> None:
    migrate = services["migrate"]
    script = " ".join(_command(migrate))
    assert "lindung migrate" in script and "lindung topics create" in script
    assert script.index("lindung migrate") < script.index("lindung topics create")
    assert migrate.get("restart") == "no"
    assert _depends_on(migrate) == {"kafka": "service_healthy", "postgres": "service_healthy"}
    assert "LINDUNG_NIK_PEPPER" not in _env(migrate)


def test_every_dependency_and_volume_exists(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    declared_volumes = set(compose.get("volumes") or {})
    for name, svc in services.items():
        for dep in _depends_on(svc):
            assert dep in services, f"{name} depends on unknown service {dep}"
            assert dep != name
        for volume in svc.get("volumes") or []:
            source = str(volume).split(":")[0]
            if not source.startswith((".", "/")):
                assert source in declared_volumes, f"{name} mounts undeclared volume {source}"


def test_shared_parts_come_from_the_anchor() -> None:
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    assert "x-lindung-service: &lindung-service" in text
    assert text.count("<<: *lindung-service\n") == len(APP_SERVICES)


# --- Dockerfile ----------------------------------------------------------------------------------


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def test_dockerfile_base_user_and_install() -> None:
    instructions = _dockerfile_instructions()
    froms = [rest for kw, rest in instructions if kw == "FROM"]
    assert froms and froms[0].split()[0].startswith("python:3.11"), froms
    users = [rest for kw, rest in instructions if kw == "USER"]
    assert users and users[-1] not in {"root", "0"}, "the image must run as a non-root user"
    runs = " ".join(rest for kw, rest in instructions if kw == "RUN")
    assert "pip install" in runs and "[test]" not in runs
    envs = " ".join(rest for kw, rest in instructions if kw == "ENV")
    assert "PYTHONUNBUFFERED=1" in envs
    copied = " ".join(rest for kw, rest in instructions if kw == "COPY")
    for part in ("libs", "services", "lindung_cli", "pyproject.toml"):
        assert part in copied, part
        assert (ROOT / part).exists(), part


def test_dockerignore_keeps_secrets_and_venv_out() -> None:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    # Deny-all first, then allow only what the Dockerfile copies.
    assert lines[[ln.strip() for ln in lines].index("*")] == "*"
    allowed = {ln[1:].rstrip("/") for ln in lines if ln.startswith("!")}
    assert allowed <= {"pyproject.toml", "README.md", "libs", "services", "lindung_cli"}
    assert {"pyproject.toml", "libs", "services", "lindung_cli"} <= allowed


# --- docker compose itself, when the client has the plugin ---------------------------------------


def _compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30, check=False)
        if probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    if legacy:
        probe = subprocess.run([legacy, "version"], capture_output=True, timeout=30, check=False)
        if probe.returncode == 0:
            return [legacy]
    return None


def test_docker_compose_config_accepts_the_file() -> None:
    cmd = _compose_command()
    if cmd is None:
        pytest.skip("no `docker compose` plugin nor `docker-compose` here: `config -q` cannot run")
    env = {**os.environ, "LINDUNG_NIK_PEPPER": "test-pepper"}
    result = subprocess.run(
        [*cmd, "-f", str(COMPOSE_FILE), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    # Without the pepper compose must refuse.
    env.pop("LINDUNG_NIK_PEPPER")
    refused = subprocess.run(
        [*cmd, "-f", str(COMPOSE_FILE), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
        cwd=ROOT,
    )
    assert refused.returncode != 0
    assert "set a secret pepper" in refused.stderr
