from libs.runtime.alembic_env import run_migrations

run_migrations(schema="privacy")
