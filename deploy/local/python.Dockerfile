# Python 3.11 from Debian's packages, in a virtual environment first on PATH, so that `python` and `pip`
# behave as in the official python:3.11-slim image the app's Dockerfile names (docker-compose.local.yml).
ARG BASE_IMAGE=taskwire-local/debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates tini \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/python
# This machine's CA certificates (harness/compose.py puts them in the build context): pip reaches PyPI
# through whatever TLS-inspecting proxy the machine trusts.
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV PATH=/opt/python/bin:$PATH \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt
