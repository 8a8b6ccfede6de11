#!/bin/sh
# Starts the compose broker with Taskwire's user from .env, then hands over to the image's entrypoint.
# A node that imports definitions at boot creates no default user (RABBITMQ_DEFAULT_USER is
# ignored, by design), so the user is imported as definitions too, beside the topology.
set -eu
: "${RABBITMQ_USER:?set RABBITMQ_USER in .env}" "${RABBITMQ_PASSWORD:?set RABBITMQ_PASSWORD in .env}"
# Both go into AMQP_URL unescaped, and into JSON below: allow only URL-safe characters.
for value in "$RABBITMQ_USER" "$RABBITMQ_PASSWORD"; do
    case "$value" in
        *[!A-Za-z0-9._~-]*)
            echo "RABBITMQ_USER and RABBITMQ_PASSWORD may hold only letters, digits and . _ ~ -" >&2
            exit 64 ;;
    esac
done
# docker-compose.cluster.yml: the nodes' shared Erlang cookie, written where RabbitMQ reads it.
if [ -n "${TASKWIRE_ERLANG_COOKIE+set}" ]; then
    cookie=$TASKWIRE_ERLANG_COOKIE
    unset TASKWIRE_ERLANG_COOKIE
    case "$cookie" in
        ""|change-me*) echo "set RABBITMQ_ERLANG_COOKIE in .env to a long random string" >&2; exit 64 ;;
    esac
    if [ "${#cookie}" -lt 32 ]; then
        echo "RABBITMQ_ERLANG_COOKIE must be at least 32 characters" >&2; exit 64
    fi
    printf %s "$cookie" > /var/lib/rabbitmq/.erlang.cookie
    chown rabbitmq:rabbitmq /var/lib/rabbitmq/.erlang.cookie
    chmod 400 /var/lib/rabbitmq/.erlang.cookie
fi
mkdir -p /etc/rabbitmq/definitions.d
users=/etc/rabbitmq/definitions.d/users.json
cat > "$users" <<JSON
{"vhosts": [{"name": "/"}],
 "users": [{"name": "$RABBITMQ_USER", "password": "$RABBITMQ_PASSWORD", "tags": "administrator"}],
 "permissions": [{"user": "$RABBITMQ_USER", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"}]}
JSON
chown rabbitmq:rabbitmq "$users"
chmod 600 "$users"
exec docker-entrypoint.sh rabbitmq-server
