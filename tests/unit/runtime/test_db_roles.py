"""The grants of the database roles (libs/eventstore/roles.py), as SQL text."""

from __future__ import annotations

import pytest

from libs.eventstore.roles import (
    AUDITOR,
    RoleLogin,
    auditor_grants,
    login_statements,
    new_logins,
    role_name,
    service_grants,
)


def test_a_service_role_only_appends_to_its_events() -> None:
    grants = service_grants("lindung_registry", "registry")
    on_events = [g for g in grants if '"registry".events ' in g]
    assert on_events == [
        'REVOKE ALL ON "registry".events FROM "lindung_registry"',
        'GRANT SELECT, INSERT ON "registry".events TO "lindung_registry"',
    ]
    # The event store's revoke comes after the schema-wide grant, so it wins.
    assert grants.index(on_events[0]) > grants.index(
        'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "registry" TO "lindung_registry"'
    )
    assert not any("TRUNCATE" in g or "CREATE" in g for g in grants)


def test_the_auditor_only_selects() -> None:
    grants = auditor_grants("lindung_auditor", ["registry", "claims"])
    assert [g for g in grants if g.startswith("GRANT")] == [
        'GRANT USAGE ON SCHEMA "registry" TO "lindung_auditor"',
        'GRANT SELECT ON ALL TABLES IN SCHEMA "registry" TO "lindung_auditor"',
        'GRANT USAGE ON SCHEMA "claims" TO "lindung_auditor"',
        'GRANT SELECT ON ALL TABLES IN SCHEMA "claims" TO "lindung_auditor"',
    ]


def test_logins_are_plain_with_fresh_passwords() -> None:
    first, second = new_logins("lindung_", ["registry"]), new_logins("lindung_", ["registry"])
    assert set(first) == {"registry", AUDITOR}
    assert first["registry"].role == "lindung_registry" and first[AUDITOR].role == "lindung_auditor"
    assert first["registry"].password != second["registry"].password
    statements = login_statements(RoleLogin("lindung_x", "it's"))
    assert "NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD 'it''s'" in statements[1]


@pytest.mark.parametrize("prefix", ['x"; DROP', "Lindung_", "1x_", "a b"])
def test_role_names_are_plain_identifiers(prefix: str) -> None:
    with pytest.raises(ValueError, match="role name"):
        role_name(prefix, "registry")
