# nginx 1.22 from Debian's packages, laid out as gateway/Dockerfile expects of the official image: an
# unprivileged `nginx` user, /etc/nginx/conf.d, /var/cache/nginx and /usr/share/nginx.
ARG BASE_IMAGE=taskwire-local/debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends nginx \
    && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/* \
    && useradd --system --no-create-home --user-group --shell /usr/sbin/nologin nginx \
    && install -d /etc/nginx/conf.d /var/cache/nginx /usr/share/nginx
