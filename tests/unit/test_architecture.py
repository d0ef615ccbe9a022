"""Architecture rules, checked on the source: services are independent, domains are pure."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "__init__.py").exists())


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_never_imports_another_service(service: str) -> None:
    offenders = []
    for path in (ROOT / "services" / service).rglob("*.py"):
        for module in imported_modules(path):
            parts = module.split(".")
            if parts[0] == "services" and len(parts) > 1 and parts[1] != service:
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offenders == []


@pytest.mark.parametrize("service", SERVICES)
def test_domain_code_does_no_io(service: str) -> None:
    forbidden = (
        "sqlalchemy",
        "aiokafka",
        "faststream",
        "fastapi",
        "httpx",
        "asyncpg",
        "libs.runtime",
        "libs.messaging",
    )
    offenders = []
    for path in (ROOT / "services" / service / "domain").rglob("*.py"):
        for module in imported_modules(path):
            if module.startswith(forbidden):
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offenders == []


def test_libs_never_import_services() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in (ROOT / "libs").rglob("*.py")
        for module in imported_modules(path)
        if module.startswith("services")
    ]
    assert offenders == []


def test_event_contracts_are_defined_only_in_libs_events() -> None:
    offenders = []
    for path in list((ROOT / "services").rglob("*.py")) + list((ROOT / "lindung_cli").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(b, ast.Name) and b.id == "DomainEvent" for b in node.bases
            ):
                offenders.append(f"{path.relative_to(ROOT)}: {node.name}")
    assert offenders == []
