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
users=/etc/rabbitmq/definitions.d/users.json
cat > "$users" <<JSON
{"vhosts": [{"name": "/"}],
 "users": [{"name": "$RABBITMQ_USER", "password": "$RABBITMQ_PASSWORD", "tags": "administrator"}],
 "permissions": [{"user": "$RABBITMQ_USER", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"}]}
JSON
chown rabbitmq:rabbitmq "$users"
chmod 600 "$users"
exec docker-entrypoint.sh rabbitmq-server
