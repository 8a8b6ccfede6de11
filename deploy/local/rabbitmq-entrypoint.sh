#!/bin/sh
# The data volume may be new (owned by root): give it to the broker's user, then run the command as that user.
set -eu
chown -R rabbitmq:rabbitmq /var/lib/rabbitmq
exec runuser -u rabbitmq -- env HOME=/var/lib/rabbitmq "$@"
