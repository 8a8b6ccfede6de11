#!/usr/bin/env bash
# Make sure nginx, PostgreSQL and RabbitMQ are installed and running, with Taskwire's role,
# databases and vhosts, and that Chromium (for the browser tests) is installed. Idempotent;
# installs from the OS packages only as root on Debian.
set -euo pipefail

PG_ROLE=taskwire
DATABASES="users_db tasks_db notifications_db
users_db_test tasks_db_test notifications_db_test
users_db_it tasks_db_it notifications_db_it"
VHOSTS="taskwire taskwire_test taskwire_it taskwire_bench taskwire_console taskwire_chaos taskwire_soak"

export PATH="$PATH:/usr/sbin:/sbin"
say() { echo "ensure-infra: $*"; }
die() { echo "ensure-infra: ERROR: $*" >&2; exit 1; }
is_root() { [ "$(id -u)" -eq 0 ]; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {  # wait_port PORT SECONDS
    local deadline=$((SECONDS + $2))
    until port_open "$1"; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.5
    done
}

install_missing() {
    local missing=()
    command -v nginx >/dev/null || missing+=(nginx)
    command -v pg_ctlcluster >/dev/null || missing+=(postgresql)
    command -v rabbitmq-server >/dev/null || missing+=(rabbitmq-server)
    python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
    # Debian's Chromium for the web console's browser tests (Playwright drives it; it downloads no browser).
    command -v chromium >/dev/null || missing+=(chromium)
    [ ${#missing[@]} -eq 0 ] && return 0
    if ! is_root || ! command -v apt-get >/dev/null; then
        die "missing: ${missing[*]}. Install them (Debian: apt-get install ${missing[*]}) and re-run."
    fi
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

start_postgres() {
    pg_isready -q -h 127.0.0.1 -p 5432 && return 0
    is_root || die "PostgreSQL is not running on 127.0.0.1:5432; start it (pg_ctlcluster <version> main start)."
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n1)
    say "starting PostgreSQL $version"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
    for _ in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p 5432 && return 0; sleep 0.5; done
    die "PostgreSQL did not accept connections on 127.0.0.1:5432"
}

start_rabbitmq() {
    if ! port_open 5672; then
        is_root || die "RabbitMQ is not running on 127.0.0.1:5672; start it (rabbitmq-server -detached)."
        say "starting RabbitMQ"
        rabbitmq-server -detached
        rabbitmqctl -q await_startup
    fi
    if ! port_open 15672; then
        say "enabling rabbitmq_management"
        rabbitmq-plugins -q enable rabbitmq_management >/dev/null
        wait_port 15672 30 || die "RabbitMQ management console did not come up on :15672"
    fi
}

psql_admin() {
    # Admin SQL as the postgres superuser: peer auth as root, else TCP (trust on dev machines).
    if is_root; then
        runuser -u postgres -- psql -qtAX -v ON_ERROR_STOP=1 "$@"
    else
        psql -h 127.0.0.1 -U postgres -qtAX -v ON_ERROR_STOP=1 "$@"
    fi
}

# Each stack's web workers pool up to 20 connections apiece, and several stacks run at once (dev, test, the
# bench's with its ceiling, chaos): PostgreSQL's default of 100 for the whole machine ran out
# ("remaining connection slots are reserved"). Raising it takes a restart, once.
PG_MAX_CONNECTIONS=300

ensure_connection_limit() {
    local current version
    current=$(psql_admin -c "SHOW max_connections")
    [ "$current" -ge "$PG_MAX_CONNECTIONS" ] && return 0
    is_root || { say "PostgreSQL allows $current connections; several stacks at once need $PG_MAX_CONNECTIONS"; return 0; }
    version=$(ls /etc/postgresql | sort -V | tail -n1)
    say "raising PostgreSQL's max_connections from $current to $PG_MAX_CONNECTIONS (a restart)"
    psql_admin -c "ALTER SYSTEM SET max_connections = $PG_MAX_CONNECTIONS"
    pg_ctlcluster --skip-systemctl-redirect "$version" main restart
    for _ in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p 5432 && return 0; sleep 0.5; done
    die "PostgreSQL did not come back after the restart"
}

ensure_databases() {
    local existing db
    if [ -z "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$PG_ROLE'")" ]; then
        say "creating role $PG_ROLE"
        psql_admin -c "CREATE ROLE $PG_ROLE LOGIN CREATEDB PASSWORD '$PG_ROLE'"
    fi
    existing=$(psql_admin -c "SELECT datname FROM pg_database")
    for db in $DATABASES; do
        grep -qx "$db" <<<"$existing" && continue
        say "creating database $db"
        psql_admin -c "CREATE DATABASE $db OWNER $PG_ROLE"
        # PostgreSQL 15 no longer lets every role create in public: hand it to the owner.
        psql_admin -d "$db" -c "ALTER SCHEMA public OWNER TO $PG_ROLE; GRANT ALL ON SCHEMA public TO $PG_ROLE"
    done
}

ensure_vhosts() {
    local existing vhost
    existing=$(rabbitmqctl -q list_vhosts name 2>/dev/null) \
        || die "rabbitmqctl cannot reach the node (as non-root, add the vhosts $VHOSTS yourself)"
    for vhost in $VHOSTS; do
        grep -qx "$vhost" <<<"$existing" && continue
        say "creating RabbitMQ vhost $vhost"
        rabbitmqctl -q add_vhost "$vhost"
        rabbitmqctl -q set_permissions -p "$vhost" guest '.*' '.*' '.*'
    done
}

install_missing
start_postgres
ensure_connection_limit
start_rabbitmq
ensure_databases
ensure_vhosts
