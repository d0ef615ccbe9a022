# Two commands for a fresh machine: `make up` runs the system, `make test` runs the tests.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: up up-kafka test lint unit integration e2e soak clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test,bench]"
	touch $(STAMP)

## Run everything: embedded PostgreSQL + broker (unless DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS), all services, demo data.
up: $(STAMP)
	$(BIN)/lindung up

## The same on Apache Kafka (a KRaft node, data kept in var/kafka): needs Java 17 and Maven.
up-kafka: $(STAMP)
	$(BIN)/lindung up --broker kafka

## The whole suite: lint, unit, integration (real PostgreSQL + broker), end to end.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy libs services lindung_cli
	$(BIN)/pytest -n 2 --durations=25

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy libs services lindung_cli

unit: $(STAMP)
	$(BIN)/pytest tests/unit

integration: $(STAMP)
	$(BIN)/pytest tests/integration

e2e: $(STAMP)
	$(BIN)/pytest tests/e2e

## The load soak (not part of `make test`): a million events through a fresh stack, peak memory per
## service per tenth of the run; about an hour on 2 cores. Results in bench/results/.
## On Apache Kafka (Java 17 + Maven): Tansu keeps every message in memory and has no retention, so
## it grows ~1 GiB over a million events. Kafka's heap is capped and its topics keep at most
## SOAK_RETENTION_BYTES per partition, deleted in SOAK_SEGMENT_BYTES segments (docs/kafka.md
## "A long run"). `make soak SOAK_BROKER=tansu` runs the in-memory broker instead.
## The workers come as 6 programmes of 21,000 (about a province-year each), nominated one after
## another: a long run as the programme lives, year after year. A programme is allocation's unit
## of state (its state holds every worker of the programme), so one programme of 126,000 would
## grow to the end of the run by design and could never show memory flat. Its six years follow one
## another, so SOAK_PROGRAMME_STATES=2 lets the years done leave allocation's cache as the years of
## a real run leave it under the default (64 programmes: a few dozen run at once in one year).
SOAK_BROKER ?= kafka
SOAK_RETENTION_BYTES ?= 67108864
SOAK_SEGMENT_BYTES ?= 8388608
SOAK_PROGRAMME_STATES ?= 2
soak: $(STAMP)
	LINDUNG_KAFKA_TOPIC_RETENTION_BYTES=$(SOAK_RETENTION_BYTES) \
	LINDUNG_KAFKA_TOPIC_SEGMENT_BYTES=$(SOAK_SEGMENT_BYTES) LINDUNG_KAFKA_TUNING=throughput \
	LINDUNG_ALLOCATION_PROGRAMME_STATES=$(SOAK_PROGRAMME_STATES) \
	$(BIN)/lindung bench pipeline --workers 126000 --programmes 6 --start --timeout-s 5400 --no-baseline \
		--broker $(SOAK_BROKER) \
		--label "126,000 workers in 6 programmes (a million events), 1 instance each, $(SOAK_BROKER)"

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
