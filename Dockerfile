# One image for every Taskwire Python service; docker-compose.yml picks each one's command.
# PYTHON_IMAGE: the official image by default; docker-compose.local.yml gives one built from Debian's packages.
ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# The runtime dependencies alone first, at the exact versions and hashes of requirements.lock
# (`make lock` writes it): this layer is rebuilt only when the lock changes, not on every source
# edit. (All of them ship wheels: no compiler needed.)
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock && rm requirements.lock

# The source, importable from /app (PYTHONPATH): nothing to build or install.
COPY taskwire_common/ taskwire_common/
COPY broker/ broker/
COPY users_svc/ users_svc/
COPY tasks_svc/ tasks_svc/
COPY notify_svc/ notify_svc/
COPY ws_relay/ ws_relay/

RUN useradd --system --create-home --uid 10001 --user-group taskwire \
    && install -d -m 0700 -o taskwire -g taskwire /var/lib/taskwire/signing-keys
USER taskwire

EXPOSE 8001 8002 8003 8004
