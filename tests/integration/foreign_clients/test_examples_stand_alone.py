"""The integrators' examples need nothing of Lindung: an integrator copies them alone."""

from __future__ import annotations

import ast
import sys

from tests.integration.foreign_clients.conftest import INTEGRATORS

ALLOWED = {"__future__", "confluent_kafka", "cryptography", "lindung_wire"}


def test_the_examples_import_only_the_standard_library_confluent_kafka_cryptography_and_each_other() -> None:
    examples = sorted(INTEGRATORS.glob("*.py"))
    assert {p.name for p in examples} >= {"regency_client.py", "bpjs_client.py", "lindung_wire.py"}
    for path in examples:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {
            alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
        }
        imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        foreign = {name for name in imported if name.split(".")[0] not in ALLOWED | sys.stdlib_module_names}
        assert not foreign, f"{path.name} imports {sorted(foreign)}"
