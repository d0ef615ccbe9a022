"""docker-compose.yml and the Dockerfile stay valid without a Docker engine.

The compose file is parsed with PyYAML (merge keys resolved) and checked against the code that
reads its values: `libs.settings.Settings` and `SERVICE_PORTS`. Its Kafka node runs
infra/kafka/start.sh, which is run here in its render-only mode and must give the settings
`lindung_cli.kafka_broker.node_properties(secured=True)` gives the tested node.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import AliasChoices

from libs.events.topics import CONSUMER_GROUPS
from libs.runtime.production import DEFAULT_NIK_PEPPER, refusals
from libs.settings import SERVICE_PORTS, Settings
from lindung_cli.kafka_broker import KAFKA_DIR, node_properties, parse_properties
from tests.compose_file import (
    COMPOSE_FILE,
    ROOT,
    START_SCRIPT,
    interpolated_environment,
    load_compose,
    start_sh,
)
from tests.compose_file import INTERPOLATION as _INTERPOLATION
from tests.compose_file import command as _command
from tests.compose_file import environment as _env
from tests.compose_file import interpolate as _interpolate

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
# Development only (compose profile `dev`): BPJS's own gateway plays it in production.
DEV_ONLY = {"bpjs-simulator"}
ALIASED = {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    svcs = compose["services"]
    assert isinstance(svcs, dict)
    return svcs


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
    # Only the six processes and the two one-shot jobs use the Lindung image.
    assert set(_lindung_services(services)) == {*APP_SERVICES.values(), "migrate", "kafka-setup"}


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
    for module, compose_name in APP_SERVICES.items():
        env = _env(services[compose_name])
        # Each service connects as its own role (docs/security.md, "Tamper evidence").
        assert env["DATABASE_URL"].startswith(f"postgresql+asyncpg://lindung_{module}:"), compose_name
        assert env["DATABASE_URL"].endswith("@postgres:5432/lindung"), compose_name
        assert env["LINDUNG_AUDIT_CHECKPOINT_DIR"] == "/var/lib/lindung/checkpoints"
        assert "checkpoints:/var/lib/lindung/checkpoints" in services[compose_name]["volumes"]
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
    password = "" if module == "bpjs_simulator" else "required-in-test"  # dev only: may be empty
    assert settings.database_url == f"postgresql+asyncpg://lindung_{module}:{password}@postgres:5432/lindung"
    assert settings.nik_pepper == "required-in-test"
    # Each service is its own principal on the secured broker (docs/kafka.md).
    assert settings.kafka_security_protocol == "SASL_PLAINTEXT"
    assert settings.kafka_sasl_mechanism == "SCRAM-SHA-512"
    assert settings.kafka_sasl_username == module


def test_each_service_connects_as_the_role_migrate_grants(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    """migrate creates `lindung_<service>` with the password the service's URL carries."""
    passwords = yaml.safe_load(_interpolate(compose["configs"]["db-passwords"]["content"]))
    assert set(passwords) == set(APP_SERVICES) | {"auditor"}
    for module, compose_name in APP_SERVICES.items():
        url = _interpolate(_env(services[compose_name])["DATABASE_URL"])
        assert url == f"postgresql+asyncpg://lindung_{module}:{passwords[module]}@postgres:5432/lindung"
    pg = _env(services["postgres"])
    owner = _interpolate(_env(services["migrate"])["LINDUNG_DATABASE_OWNER_URL"])
    user, password, db = (
        _interpolate(str(pg[k])) for k in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB")
    )
    assert owner == f"postgresql+asyncpg://{user}:{password}@postgres:5432/{db}"


# --- infrastructure ------------------------------------------------------------------------------


def test_kafka_is_kraft_single_node(services: dict[str, dict[str, Any]]) -> None:
    assert not any("zookeeper" in name.lower() for name in services)
    assert not any("zookeeper" in str(svc.get("image", "")).lower() for svc in services.values())
    kafka = services["kafka"]
    assert not any("ZOOKEEPER" in var for var in _env(kafka))
    props = parse_properties(_render_compose_kafka(services, "pw"))
    assert {r.strip() for r in props["process.roles"].split(",")} == {"broker", "controller"}
    assert props["node.id"] == "1"
    assert props["controller.quorum.bootstrap.servers"] == "127.0.0.1:9093"
    assert props["controller.listener.names"] == "CONTROLLER"
    assert props["listeners"] == "SASL_PLAINTEXT://0.0.0.0:9092,CONTROLLER://127.0.0.1:9093"
    protocols = dict(p.split(":") for p in props["listener.security.protocol.map"].split(","))
    assert protocols["CONTROLLER"] == "PLAINTEXT" and protocols["SASL_PLAINTEXT"] == "SASL_PLAINTEXT"
    assert props["inter.broker.listener.name"] == "SASL_PLAINTEXT"
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["auto.create.topics.enable"] == "false"
    # Secured as the tests run it: SCRAM, the standard authorizer, nothing without an ACL.
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert props["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert props["allow.everyone.if.no.acl.found"] == "false"
    # The services connect to exactly what the broker advertises, with its security protocol.
    advertised = props["advertised.listeners"]
    assert advertised == "SASL_PLAINTEXT://kafka:9092"
    for name, svc in _lindung_services(services).items():
        env = _env(svc)
        if "LINDUNG_KAFKA_SECURITY_PROTOCOL" not in env:
            assert name == "migrate", f"{name} connects to Kafka without the security settings"
            continue
        assert f"{env['LINDUNG_KAFKA_SECURITY_PROTOCOL']}://{env['KAFKA_BOOTSTRAP_SERVERS']}" == advertised, (
            name
        )


def test_kafka_and_postgres_have_health_checks(services: dict[str, dict[str, Any]]) -> None:
    kafka_test = " ".join(services["kafka"]["healthcheck"]["test"])
    assert "/opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server localhost:9092" in kafka_test
    pg = services["postgres"]
    assert pg["image"] == "postgres:16"
    assert "pg_isready" in " ".join(pg["healthcheck"]["test"])
    assert _env(pg)["POSTGRES_DB"] == "lindung"
    assert any(str(v).endswith(":/var/lib/postgresql/data") for v in pg["volumes"])


def test_migrate_runs_once_after_infrastructure(services: dict[str, dict[str, Any]]) -> None:
    # Schemas only: the topics are kafka-setup's (as the admin, with retention and ACLs).
    migrate = services["migrate"]
    assert _command(migrate) == [
        "sh",
        "-c",
        "lindung migrate && lindung db roles --passwords /etc/lindung/db-passwords.yaml",
    ]
    assert migrate["configs"] == [{"source": "db-passwords", "target": "/etc/lindung/db-passwords.yaml"}]
    assert migrate.get("restart") == "no"
    assert _depends_on(migrate) == {"postgres": "service_healthy"}
    assert "LINDUNG_NIK_PEPPER" not in _env(migrate)
    assert "LINDUNG_KAFKA_SASL_PASSWORD" not in _env(migrate)


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
            elif source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts {source}, which is not in the repository"
        for kind in ("configs", "secrets"):
            for entry in svc.get(kind) or []:
                source = entry["source"] if isinstance(entry, dict) else entry
                assert source in (compose.get(kind) or {}), f"{name} uses undeclared {kind} {source}"


def test_shared_parts_come_from_the_anchor() -> None:
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    assert "x-lindung-service: &lindung-service" in text
    assert text.count("<<: *lindung-service\n") == len(APP_SERVICES)


# --- the Kafka node: the tested node's settings, through infra/kafka/start.sh ----------------------

KAFKA_TEMPLATE_MOUNT = "/opt/lindung/kafka"


def _kafka_version_in_pom() -> str:
    root = ET.parse(KAFKA_DIR / "pom.xml").getroot()
    namespace = {"m": "http://maven.apache.org/POM/4.0.0"}
    version = root.findtext("m:properties/m:kafka.version", namespaces=namespace)
    assert version, "infra/kafka/pom.xml has no kafka.version"
    return version


def _kafka_env(services: dict[str, dict[str, Any]], admin_password: str) -> dict[str, str]:
    """The kafka service's environment as compose would pass it, with this admin password."""
    return interpolated_environment(services["kafka"], {"KAFKA_ADMIN_PASSWORD": admin_password})


def _render_compose_kafka(services: dict[str, dict[str, Any]], admin_password: str) -> str:
    done = start_sh({**_kafka_env(services, admin_password), "KAFKA_RENDER_ONLY": "1"})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_kafka_image_is_the_tested_version(services: dict[str, dict[str, Any]]) -> None:
    # The tests run the jars of pom.xml's kafka.version; production runs that version's image.
    assert services["kafka"]["image"] == f"apache/kafka:{_kafka_version_in_pom()}"


def test_kafka_runs_start_sh_on_the_mounted_templates(services: dict[str, dict[str, Any]]) -> None:
    kafka = services["kafka"]
    assert f"./infra/kafka:{KAFKA_TEMPLATE_MOUNT}:ro" in kafka["volumes"]
    assert _command(kafka) == ["bash", f"{KAFKA_TEMPLATE_MOUNT}/start.sh"]
    # start.sh reads the templates beside itself, i.e. the mounted ones (no other copy).
    assert "KAFKA_TEMPLATE_DIR" not in _env(kafka)
    for template in ("server.properties", "sasl.properties", "log4j2.properties", "start.sh"):
        assert (KAFKA_DIR / template).is_file(), template
    # The log dirs are the data volume.
    assert "kafka-data:/var/lib/kafka/data" in kafka["volumes"]
    assert not kafka.get("ports"), "the broker is reached inside the compose network only"
    assert _env(kafka)["KAFKA_ADMIN_PASSWORD"].startswith("${KAFKA_ADMIN_PASSWORD:?")


def test_start_sh_renders_the_tested_nodes_settings(services: dict[str, dict[str, Any]]) -> None:
    """What the container runs = what the tests run: node_properties(secured=True) with the
    container's addresses and paths, key by key."""
    rendered = parse_properties(_render_compose_kafka(services, "s3cret-admin"))
    bootstrap_host, bootstrap_port = _env(services["registry"])["KAFKA_BOOTSTRAP_SERVERS"].split(":")
    tested = parse_properties(
        node_properties(
            port=int(bootstrap_port),
            controller_port=9093,
            log_dirs="/var/lib/kafka/data",
            secured=True,
            admin_password="s3cret-admin",
            listen_host="0.0.0.0",
            advertised_host=bootstrap_host,
            controller_host="127.0.0.1",
        )
    )
    assert sorted(rendered) == sorted(tested), "start.sh and node_properties() render different keys"
    for key, value in tested.items():
        assert rendered[key] == value, key


def test_start_sh_refuses_a_missing_or_unsafe_admin_password() -> None:
    missing = start_sh({"KAFKA_RENDER_ONLY": "1"})
    assert missing.returncode != 0 and "KAFKA_ADMIN_PASSWORD" in missing.stderr
    # The password lands in a JAAS line and in --add-scram's [name=...,password=...].
    for unsafe in ('a"b', "a,b]", "a b", "a|b"):
        refused = start_sh({"KAFKA_RENDER_ONLY": "1", "KAFKA_ADMIN_PASSWORD": unsafe})
        assert refused.returncode != 0 and "may hold only" in refused.stderr, unsafe
        assert unsafe not in refused.stdout


def test_start_sh_reads_the_admin_password_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "admin"
    secret.write_text("from-a-secret\n")
    done = start_sh({"KAFKA_RENDER_ONLY": "1", "KAFKA_ADMIN_PASSWORD_FILE": str(secret)})
    assert done.returncode == 0, done.stderr
    jaas = parse_properties(done.stdout)["listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config"]
    assert 'username="admin" password="from-a-secret";' in jaas


def _fake_kafka_home(tmp_path: Path) -> tuple[Path, Path]:
    """bin/kafka-storage.sh and bin/kafka-server-start.sh that log their calls (no JVM)."""
    home, calls = tmp_path / "kafka", tmp_path / "calls.log"
    (home / "bin").mkdir(parents=True)
    storage = home / "bin" / "kafka-storage.sh"
    storage.write_text(
        "#!/usr/bin/env bash\n"
        'echo "storage $*" >> "$CALLS"\n'
        "if [[ $1 == random-uuid ]]; then echo RandomClusterId0000000; exit 0; fi\n"
        # The real tool writes meta.properties into log.dirs.
        'echo "cluster.id=x" > "$KAFKA_DATA_DIR/meta.properties"\n'
    )
    server = home / "bin" / "kafka-server-start.sh"
    server.write_text('#!/usr/bin/env bash\necho "server $* log4j=$KAFKA_LOG4J_OPTS" >> "$CALLS"\n')
    for script in (storage, server):
        script.chmod(0o755)
    return home, calls


def test_start_sh_formats_once_then_starts_the_broker(
    services: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    home, calls = _fake_kafka_home(tmp_path)
    data, run = tmp_path / "data", tmp_path / "run"
    data.mkdir()
    env = {
        **_kafka_env(services, "s3cret-admin"),
        "KAFKA_HOME": str(home),
        "KAFKA_DATA_DIR": str(data),
        "KAFKA_RUN_DIR": str(run),
        "CALLS": str(calls),
    }
    first = start_sh(env)
    assert first.returncode == 0, first.stderr
    config = run / "server.properties"
    assert calls.read_text().splitlines() == [
        "storage random-uuid",
        f"storage format --standalone -t RandomClusterId0000000 -c {config} "
        "--add-scram SCRAM-SHA-512=[name=admin,password=s3cret-admin]",
        f"server {config} log4j=-Dlog4j2.configurationFile={KAFKA_DIR}/log4j2.properties",
    ]
    # The broker runs what render-only prints, with the data dir it was given.
    rendered = parse_properties(config.read_text())
    assert rendered["log.dirs"] == str(data)
    assert {k: v for k, v in rendered.items() if k != "log.dirs"} == {
        k: v
        for k, v in parse_properties(_render_compose_kafka(services, "s3cret-admin")).items()
        if k != "log.dirs"
    }
    # Files holding the admin password are the container user's only.
    assert config.stat().st_mode & 0o077 == 0
    admin = parse_properties((run / "admin.properties").read_text())
    assert admin["security.protocol"] == "SASL_PLAINTEXT"
    assert admin["sasl.mechanism"] == "SCRAM-SHA-512"
    assert 'username="admin" password="s3cret-admin";' in admin["sasl.jaas.config"]
    assert (run / "admin.properties").stat().st_mode & 0o077 == 0

    # A formatted volume keeps its data: no second format, whatever the cluster id says.
    calls.unlink()
    second = start_sh({**env, "KAFKA_CLUSTER_ID": "AnotherClusterId000000"})
    assert second.returncode == 0, second.stderr
    assert [line.split()[0] for line in calls.read_text().splitlines()] == ["server"]


def test_start_sh_formats_with_the_given_cluster_id(
    services: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    home, calls = _fake_kafka_home(tmp_path)
    (tmp_path / "data").mkdir()
    env = {
        **_kafka_env(services, "pw"),
        "KAFKA_HOME": str(home),
        "KAFKA_DATA_DIR": str(tmp_path / "data"),
        "KAFKA_RUN_DIR": str(tmp_path / "run"),
        "KAFKA_CLUSTER_ID": "5L6g3nShT-eMCtK--X86sw",
        "CALLS": str(calls),
    }
    done = start_sh(env)
    assert done.returncode == 0, done.stderr
    assert (
        calls.read_text().splitlines()[0].startswith("storage format --standalone -t 5L6g3nShT-eMCtK--X86sw ")
    )


def test_kafka_health_check_authenticates_with_start_sh_admin_file(
    services: dict[str, dict[str, Any]],
) -> None:
    check = " ".join(services["kafka"]["healthcheck"]["test"])
    command_config = re.search(r"--command-config (\S+)", check)
    assert command_config, "a secured broker answers only an authenticated health check"
    default_run_dir = re.search(r"KAFKA_RUN_DIR=\$\{KAFKA_RUN_DIR:-([^}]+)\}", START_SCRIPT.read_text())
    assert default_run_dir
    assert "KAFKA_RUN_DIR" not in _env(services["kafka"])
    assert command_config[1] == f"{default_run_dir[1]}/admin.properties"


def test_start_sh_is_valid_shell() -> None:
    done = subprocess.run(["bash", "-n", str(START_SCRIPT)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    shellcheck = shutil.which("shellcheck")
    if shellcheck:
        checked = subprocess.run([shellcheck, str(START_SCRIPT)], capture_output=True, text=True, check=False)
        assert checked.returncode == 0, checked.stdout


# --- principals: kafka-setup, then each service as itself --------------------------------------


def _password_variable(value: str) -> tuple[str, str]:
    """The compose variable a password comes from and how (`:?` required, `:-` optional)."""
    match = _INTERPOLATION.fullmatch(value)
    assert match and match["op"], f"a password must come from a variable, not {value!r}"
    return match["name"], match["op"]


def test_every_service_connects_as_its_own_principal(services: dict[str, dict[str, Any]]) -> None:
    variables: dict[str, str] = {}
    for module, compose_name in APP_SERVICES.items():
        env = _env(services[compose_name])
        # The principal is the service's consumer group: its ACLs are derived from that name.
        assert env["LINDUNG_KAFKA_SASL_USERNAME"] == module, compose_name
        assert module in CONSUMER_GROUPS, module
        assert env["LINDUNG_KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT", compose_name
        assert env["LINDUNG_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512", compose_name
        variable, op = _password_variable(env["LINDUNG_KAFKA_SASL_PASSWORD"])
        assert variable == f"KAFKA_PASSWORD_{module.upper()}", compose_name
        # Production services refuse to start without their password; the dev-only one may lack it.
        assert op == (":-" if compose_name in DEV_ONLY else ":?"), compose_name
        variables[compose_name] = variable
    assert len(set(variables.values())) == len(variables), "two services share a password"


def test_kafka_setup_runs_before_the_services(services: dict[str, dict[str, Any]]) -> None:
    setup = services["kafka-setup"]
    script = " ".join(_command(setup))
    assert "lindung kafka setup --credentials /run/secrets/kafka-credentials.yaml" in script
    assert setup.get("restart") == "no"
    assert _depends_on(setup) == {"kafka": "service_healthy"}
    # The file the command reads is the mounted secret (compose's default name would lack .yaml).
    assert {"source": "kafka-credentials", "target": "/run/secrets/kafka-credentials.yaml"} in setup[
        "secrets"
    ]
    env = _env(setup)
    # As the super user (super.users in infra/kafka/sasl.properties), with the broker's password.
    assert env["LINDUNG_KAFKA_SASL_USERNAME"] == "admin"
    assert "User:admin" in parse_properties((KAFKA_DIR / "sasl.properties").read_text())["super.users"]
    assert env["LINDUNG_KAFKA_SASL_PASSWORD"] == _env(services["kafka"])["KAFKA_ADMIN_PASSWORD"]
    assert env["LINDUNG_KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"
    assert "LINDUNG_NIK_PEPPER" not in env
    for compose_name in APP_SERVICES.values():
        deps = _depends_on(services[compose_name])
        assert deps.get("kafka-setup") == "service_completed_successfully", compose_name


def test_kafka_setup_creates_each_services_user_with_its_password(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    """The services' credentials file kafka-setup reads is built from the variables the services
    connect with: one home per password."""
    setup = services["kafka-setup"]
    (mounted,) = setup["configs"]
    path = mounted["target"]
    assert f"lindung kafka setup --credentials {path}" in " ".join(_command(setup))
    content = compose["configs"][mounted["source"]]["content"]
    chosen = {f"KAFKA_PASSWORD_{m.upper()}": f"pw-{m}" for m in APP_SERVICES}
    credentials = yaml.safe_load(_interpolate(content, chosen))
    expected = {
        module: _interpolate(_env(services[name])["LINDUNG_KAFKA_SASL_PASSWORD"], chosen)
        for module, name in APP_SERVICES.items()
        if name not in DEV_ONLY
    }
    assert credentials == expected
    assert "admin" not in credentials  # the broker's own (start.sh); `kafka setup` refuses it


def test_bpjs_simulator_is_development_only(services: dict[str, dict[str, Any]]) -> None:
    for name, svc in services.items():
        if name in DEV_ONLY:
            assert svc.get("profiles") == ["dev"], name
        else:
            assert not svc.get("profiles"), f"{name} must run in production"
            assert not set(_depends_on(svc)) & DEV_ONLY, f"{name} depends on a development-only service"


# --- closed by default (docs/security.md, "Production checklist") ------------------------------

SECRET_NAME = re.compile(r"PASSWORD|SECRET|PEPPER|API_KEYS|PRIVATE|SIGNING_KEY$")
# A .env as an operator fills it in from .env.example: strong values of every secret.
STRONG_DOTENV = {
    "LINDUNG_NIK_PEPPER": "a" * 64,
    "LINDUNG_SESSION_SECRET": "b" * 64,
    "LINDUNG_PRIVACY_MASTER_KEY": "f" * 64,
    "LINDUNG_API_KEYS": json.dumps([{"key_sha256": "c" * 64, "role": "province_admin", "name": "Disnaker"}]),
    "POSTGRES_PASSWORD": "d" * 64,
    "KAFKA_ADMIN_PASSWORD": "e" * 64,
    **{f"KAFKA_PASSWORD_{m.upper()}": f"pw-{m}" for m in APP_SERVICES},
}


def _service_settings(
    service: dict[str, Any], chosen: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Settings:
    for var in list(os.environ):
        if var.startswith("LINDUNG_") or var in ALIASED:
            monkeypatch.delenv(var)
    for var, value in interpolated_environment(service, chosen).items():
        monkeypatch.setenv(var, value)
    return Settings(_env_file=None)


def test_every_service_asks_callers_for_an_api_key(services: dict[str, dict[str, Any]]) -> None:
    for compose_name in APP_SERVICES.values():
        env = _env(services[compose_name])
        assert str(env["LINDUNG_API_KEYS"]).startswith("${LINDUNG_API_KEYS:?"), compose_name
        # Replaced by closed-by-default (libs/runtime/production.py): keys are required anyway.
        assert "LINDUNG_AUTH_REQUIRED" not in env, compose_name


def test_no_production_service_runs_in_development_mode(services: dict[str, dict[str, Any]]) -> None:
    for name, svc in _lindung_services(services).items():
        env = _env(svc)
        if name in DEV_ONLY:
            # The simulator's control panel exists only in development mode; the profile keeps
            # it out of production.
            assert env.get("LINDUNG_DEV_MODE") == "true" and svc.get("profiles") == ["dev"], name
        else:
            assert "LINDUNG_DEV_MODE" not in env, name


@pytest.mark.parametrize("module", sorted(m for m, n in APP_SERVICES.items() if n not in DEV_ONLY))
def test_production_services_start_closed_with_a_filled_in_env(
    services: dict[str, dict[str, Any]], module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _service_settings(services[APP_SERVICES[module]], STRONG_DOTENV, monkeypatch)
    assert settings.dev_mode is False
    # The event keys are the signing block's (docs/security.md, "Signed events"); the rest is this
    # file's and .env's: nothing else is refused.
    refused = [r.setting for r in refusals(settings, module) if not r.setting.startswith("LINDUNG_EVENT_")]
    assert refused == [], module
    # A weak pepper in .env is refused at start, whatever compose let through.
    weak = _service_settings(
        services[APP_SERVICES[module]], {**STRONG_DOTENV, "LINDUNG_NIK_PEPPER": "short"}, monkeypatch
    )
    assert "LINDUNG_NIK_PEPPER" in [r.setting for r in refusals(weak, module)]


def test_the_simulator_never_speaks_for_bpjs_in_production(
    services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Not even when .env tries to say otherwise: the allow-list is a literal of this file.
    dotenv = {**STRONG_DOTENV, "LINDUNG_BPJS_PRODUCERS": '["bpjs", "bpjs_simulator"]'}
    for compose_name in APP_SERVICES.values():
        if compose_name in DEV_ONLY:
            continue
        settings = _service_settings(services[compose_name], dotenv, monkeypatch)
        assert settings.bpjs_producers == ("bpjs",), compose_name


def _interpolations(text: str) -> list[re.Match[str]]:
    return list(_INTERPOLATION.finditer(text))


def test_no_literal_secret_in_the_file(compose: dict[str, Any], services: dict[str, dict[str, Any]]) -> None:
    for name, svc in services.items():
        for var, value in _env(svc).items():
            if not SECRET_NAME.search(var):
                continue
            found = _interpolations(str(value))
            assert len(found) == 1 and found[0].group(0) == str(value), f"{name}.{var} holds a literal"
            op, arg = found[0]["op"], found[0]["arg"]
            # Required, or (the dev-only simulator's Kafka password) empty: never a default value.
            assert op == ":?" or (op == ":-" and arg == ""), f"{name}.{var} has a default: {value}"
    # Inside URLs and the inline credentials file: no secret variable has a default either.
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    for match in _interpolations(text):
        if SECRET_NAME.search(match["name"]) and match["op"] == ":-":
            assert match["arg"] == "", f"${{{match['name']}}} has a default in docker-compose.yml"
    assert DEFAULT_NIK_PEPPER not in text


def test_env_example_names_every_required_value() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    named = {line.split("=", 1)[0].lstrip("# ").strip() for line in example.splitlines() if "=" in line}
    required = {m["name"] for m in _interpolations(COMPOSE_FILE.read_text()) if m["op"] == ":?"}
    assert required <= named, sorted(required - named)
    # Placeholders only: no secret is filled in.
    for line in example.splitlines():
        var, _, value = line.partition("=")
        if not line.startswith("#") and SECRET_NAME.search(var) and var != "LINDUNG_API_KEYS":
            assert value == "", line
    assert "<64 hex digits>" in example


def test_env_and_secrets_stay_out_of_git() -> None:
    ignored = {line.strip() for line in (ROOT / ".gitignore").read_text().splitlines()}
    assert {".env", "secrets/"} <= ignored
    assert ".env.example" not in ignored


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
    env = {
        **os.environ,
        **STRONG_DOTENV,
        "LINDUNG_NIK_PEPPER": "test-pepper",
        "KAFKA_ADMIN_PASSWORD": "test-admin",
        **{f"KAFKA_PASSWORD_{m.upper()}": f"test-{m}" for m in APP_SERVICES},
    }
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
