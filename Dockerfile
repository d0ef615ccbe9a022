# One image for every Lindung process: `python -m services.<name>` or the `lindung` CLI.
FROM python:3.11-slim

# MALLOC_ARENA_MAX: two glibc malloc arenas, not 8 per core (docs/architecture.md "Memory on a
# long run").
ENV PYTHONUNBUFFERED=1 \
    MALLOC_ARENA_MAX=2 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Runtime dependencies only (no [test] extra). The source is installed, then thrown away:
# the processes run the installed package, so what runs is what pyproject.toml ships.
# README.md* : copied when present (pyproject.toml does not need it).
COPY pyproject.toml README.md* /tmp/src/
COPY libs /tmp/src/libs
COPY services /tmp/src/services
COPY lindung_cli /tmp/src/lindung_cli
RUN pip install /tmp/src && rm -rf /tmp/src

RUN useradd --create-home --uid 10001 --user-group lindung
USER lindung
WORKDIR /home/lindung

EXPOSE 8101 8102 8103 8104 8105
CMD ["lindung", "--help"]
