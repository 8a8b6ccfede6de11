# RabbitMQ 3.10 from Debian's packages, with the management plugin, started as the official image is:
# docker-compose.yml's broker entrypoint ends with `exec docker-entrypoint.sh rabbitmq-server`.
# Quorum queues and streams are part of the server (feature flags on for a new node).
ARG BASE_IMAGE=taskwire-local/debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends rabbitmq-server \
    && rm -rf /var/lib/apt/lists/* \
    && rabbitmq-plugins enable --offline rabbitmq_management \
    && install -d -o rabbitmq -g rabbitmq /etc/rabbitmq/conf.d /etc/rabbitmq/definitions.d
COPY rabbitmq-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN chmod 0755 /usr/local/bin/docker-entrypoint.sh
CMD ["docker-entrypoint.sh", "rabbitmq-server"]
EXPOSE 5672 15672
