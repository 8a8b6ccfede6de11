# One image for every Taskwire Python service; docker-compose.yml picks each one's command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# The dependencies alone first, read from pyproject.toml: this layer is rebuilt only when
# they change, not on every source edit. (All of them ship wheels: no compiler needed.)
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The source, importable from /app (PYTHONPATH): nothing to build or install.
COPY taskwire_common/ taskwire_common/
COPY broker/ broker/
COPY users_svc/ users_svc/
COPY tasks_svc/ tasks_svc/
COPY notify_svc/ notify_svc/
COPY ws_relay/ ws_relay/

RUN useradd --system --create-home --uid 10001 --user-group taskwire
USER taskwire

EXPOSE 8001 8002 8003 8004
