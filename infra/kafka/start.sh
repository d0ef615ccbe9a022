#!/usr/bin/env bash
# The Kafka container's start in docker-compose.yml (image apache/kafka, infra/kafka/ mounted
# read-only): the node's settings are the files the tests run (server.properties + sasl.properties,
# secured), filled in here as lindung_cli/kafka_broker.py node_properties() fills them for the
# tests; the storage is formatted once with the admin's SCRAM credentials; then the broker runs.
#
# Every path and address comes from the environment, with the image's values as defaults, so the
# script also runs outside Docker: KAFKA_RENDER_ONLY=1 prints the rendered settings and exits
# (tests/unit/deploy/test_compose.py compares them with node_properties(secured=True)).
#
#   KAFKA_ADMIN_PASSWORD or KAFKA_ADMIN_PASSWORD_FILE   the super user's password (required)
#   KAFKA_CLUSTER_ID       the cluster id at the first format (default: a random one)
#   KAFKA_ADVERTISED_HOST  what clients are told to connect to (default: kafka, the service name)
#   KAFKA_CONTROLLER_HOST  the controller listener (default: 127.0.0.1, see below)
set -euo pipefail

KAFKA_HOME=${KAFKA_HOME:-/opt/kafka}
KAFKA_TEMPLATE_DIR=${KAFKA_TEMPLATE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
KAFKA_DATA_DIR=${KAFKA_DATA_DIR:-/var/lib/kafka/data}
# The rendered settings hold the admin password: kept in the container's /tmp, never in the volume.
KAFKA_RUN_DIR=${KAFKA_RUN_DIR:-/tmp/lindung-kafka}
KAFKA_CLIENT_PORT=${KAFKA_CLIENT_PORT:-9092}
KAFKA_LISTEN_HOST=${KAFKA_LISTEN_HOST:-0.0.0.0}
KAFKA_ADVERTISED_HOST=${KAFKA_ADVERTISED_HOST:-kafka}
# The controller listener is PLAINTEXT and its callers are super users (User:ANONYMOUS): with one
# node its only caller is this JVM, so it listens on the container's loopback, which neither the
# host nor the other containers of the compose network reach.
KAFKA_CONTROLLER_HOST=${KAFKA_CONTROLLER_HOST:-127.0.0.1}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-9093}
KAFKA_RENDER_ONLY=${KAFKA_RENDER_ONLY:-}

fail() {
    echo "start.sh: $*" >&2
    exit 1
}

admin_password() {
    local password=${KAFKA_ADMIN_PASSWORD:-}
    if [[ -z $password && -n ${KAFKA_ADMIN_PASSWORD_FILE:-} ]]; then
        [[ -r $KAFKA_ADMIN_PASSWORD_FILE ]] || fail "cannot read KAFKA_ADMIN_PASSWORD_FILE=$KAFKA_ADMIN_PASSWORD_FILE"
        password=$(<"$KAFKA_ADMIN_PASSWORD_FILE")
    fi
    [[ -n $password ]] || fail "set KAFKA_ADMIN_PASSWORD (or KAFKA_ADMIN_PASSWORD_FILE): the super user's password"
    # It goes into a JAAS line, a sed replacement and --add-scram's [name=...,password=...]:
    # characters that mean something there are refused rather than escaped three ways.
    [[ $password =~ ^[A-Za-z0-9._~+-]+$ ]] ||
        fail "KAFKA_ADMIN_PASSWORD may hold only letters, digits and . _ ~ + - (e.g. openssl rand -hex 32)"
    printf '%s' "$password"
}

# server.properties, then sasl.properties (as node_properties(secured=True) joins them), every
# @NAME@ filled in; a placeholder left over stops the start.
render() {
    local password=$1 rendered
    rendered=$(
        {
            cat "$KAFKA_TEMPLATE_DIR/server.properties"
            echo
            cat "$KAFKA_TEMPLATE_DIR/sasl.properties"
        } | sed \
            -e "s|@CLIENT_LISTENER@|SASL_PLAINTEXT|g" \
            -e "s|@LISTEN_HOST@|$KAFKA_LISTEN_HOST|g" \
            -e "s|@ADVERTISED_HOST@|$KAFKA_ADVERTISED_HOST|g" \
            -e "s|@CONTROLLER_HOST@|$KAFKA_CONTROLLER_HOST|g" \
            -e "s|@PORT@|$KAFKA_CLIENT_PORT|g" \
            -e "s|@CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
            -e "s|@LOG_DIRS@|$KAFKA_DATA_DIR|g" \
            -e "s|@ADMIN_PASSWORD@|$password|g"
    )
    if grep -q '@[A-Z_]*@' <<<"$rendered"; then
        fail "unfilled placeholders in the Kafka settings: $(grep -o '@[A-Z_]*@' <<<"$rendered" | sort -u | tr '\n' ' ')"
    fi
    printf '%s\n' "$rendered"
}

password=$(admin_password)
if [[ -n $KAFKA_RENDER_ONLY ]]; then
    render "$password"
    exit 0
fi

umask 077
mkdir -p "$KAFKA_RUN_DIR"
config=$KAFKA_RUN_DIR/server.properties
render "$password" >"$config"
# For the health check (and an operator's `docker compose exec kafka ...`): the admin as a client.
cat >"$KAFKA_RUN_DIR/admin.properties" <<EOF
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$password";
EOF

# Format once: a volume that holds a formatted node keeps its data, users and ACLs.
if [[ ! -f $KAFKA_DATA_DIR/meta.properties ]]; then
    cluster_id=${KAFKA_CLUSTER_ID:-$("$KAFKA_HOME/bin/kafka-storage.sh" random-uuid)}
    echo "start.sh: formatting $KAFKA_DATA_DIR (cluster $cluster_id) with the admin's SCRAM-SHA-512 credentials"
    "$KAFKA_HOME/bin/kafka-storage.sh" format --standalone -t "$cluster_id" -c "$config" \
        --add-scram "SCRAM-SHA-512=[name=admin,password=$password]"
fi

# The tested node's logging (warnings and start/stop lines to standard output: docker logs).
export KAFKA_LOG4J_OPTS=${KAFKA_LOG4J_OPTS:--Dlog4j2.configurationFile=$KAFKA_TEMPLATE_DIR/log4j2.properties}
exec "$KAFKA_HOME/bin/kafka-server-start.sh" "$config"
