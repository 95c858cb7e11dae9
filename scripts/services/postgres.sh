#!/usr/bin/env bash
# The Debian PostgreSQL cluster behind a localhost DATABASE_URL or MLC_TEST_DATABASE_URL
# (default postgres://postgres@127.0.0.1:5432/mlc_test): started, or created on a fresh
# install, with the named database. Other servers are never touched.
# Usually run by scripts/services.sh: start|stop|status.
set -euo pipefail
# shellcheck source=scripts/services/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DEFAULT_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/mlc_test

pg_query() { PGCONNECT_TIMEOUT=5 psql "$1" -XAtq -v ON_ERROR_STOP=1 -c "$2"; }
pg_up() { pg_isready -q -h "${PG_HOST:-127.0.0.1}" -p "$PG_PORT" -t 2; }
# "VERSION NAME" of the Debian cluster on PG_PORT, or nothing.
pg_cluster_on_port() { pg_lsclusters -h 2>/dev/null | awk -v p="$PG_PORT" '$3 == p {print $1, $2; exit}' || true; }

# Starts (or, after a fresh install with none, creates) the Debian cluster on PG_PORT.
pg_start_cluster() {
  local line ver name
  line=$(pg_cluster_on_port)
  if [ -z "$line" ]; then
    ver=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -V | tail -1 || true)
    [ -n "$ver" ] || die "postgres: no server installed (apt-get install postgresql; or scripts/setup.sh)"
    name=main
    if [ -d "/etc/postgresql/$ver/main" ]; then name=mlc$PG_PORT; fi
    host_change "pg_createcluster -p $PG_PORT $ver $name (a new PostgreSQL cluster, config in /etc/postgresql/$ver/$name)"
    pg_createcluster -p "$PG_PORT" "$ver" "$name" >>"$LOG_DIR/postgres.log" 2>&1 ||
      die "postgres: pg_createcluster failed (log: $LOG_DIR/postgres.log)"
    line="$ver $name"
  fi
  read -r ver name <<<"$line"
  pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start >>"$LOG_DIR/postgres.log" 2>&1 || true
  if ! wait_until 30 pg_up; then
    fail "postgres: cluster $ver/$name did not start (logs: $LOG_DIR/postgres.log, /var/log/postgresql/postgresql-$ver-$name.log)"
    show_log "/var/log/postgresql/postgresql-$ver-$name.log"
    return 1
  fi
  echo "$ver $name" >"$RUN_DIR/postgres.cluster"
  ok "postgres started (cluster $ver/$name, port $PG_PORT)"
}

# A freshly installed Debian cluster wants a password on TCP; the dev/CI URL has none.
# Returns 1 when there is nothing it may change (not root, no such cluster, already trusted).
pg_trust_loopback() {
  local line ver name hba
  line=$(pg_cluster_on_port)
  [ -n "$line" ] && is_root || return 1
  read -r ver name <<<"$line"
  hba=/etc/postgresql/$ver/$name/pg_hba.conf
  [ -f "$hba" ] && ! grep -q '# mlc: trust loopback' "$hba" || return 1
  host_change "$hba: trust loopback TCP logins (127.0.0.1/32, ::1/128; dev/CI only), then reload cluster $ver/$name"
  { printf '# mlc: trust loopback TCP for local development and CI (scripts/services.sh)\n'
    printf 'host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n'
    cat "$hba"; } >"$hba.mlc" && cat "$hba.mlc" >"$hba" && rm -f "$hba.mlc" || return 1
  pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" reload >>"$LOG_DIR/postgres.log" 2>&1 || true
}

postgres_start() {
  local urls url err
  mapfile -t urls < <(local_pg_urls)
  [ "${#urls[@]}" -gt 0 ] || urls=("${MLC_TEST_DATABASE_URL:-$DEFAULT_TEST_DATABASE_URL}")
  command -v pg_isready >/dev/null || die "postgres: client tools missing (apt-get install postgresql; or scripts/setup.sh)"
  for url in "${urls[@]}"; do
    parse_pg_url "$url" || die "postgres: cannot parse database URL '$url'"
    if pg_up; then
      ok "postgres already running (${PG_HOST:-localhost}:$PG_PORT)"
    else
      pg_start_cluster
    fi
    if ! err=$(pg_query "$PG_ADMIN_URL" 'select 1' 2>&1 >/dev/null); then
      if grep -qiE 'password|authentication' <<<"$err" && pg_trust_loopback; then
        err=$(pg_query "$PG_ADMIN_URL" 'select 1' 2>&1 >/dev/null) || true
      fi
      [ -z "$err" ] || {
        fail "postgres: cannot log in with ${url%%\?*}: $err"
        return 1
      }
    fi
    if [ "$(pg_query "$PG_ADMIN_URL" "select 1 from pg_database where datname = '${PG_DB//\'/\'\'}'")" = 1 ]; then
      ok "postgres database $PG_DB present"
    else
      pg_query "$PG_ADMIN_URL" "create database \"${PG_DB//\"/\"\"}\"" >/dev/null ||
        die "postgres: could not create database $PG_DB"
      ok "postgres database $PG_DB created"
    fi
  done
}

postgres_stop() {
  local ver name
  if [ -s "$RUN_DIR/postgres.cluster" ]; then
    read -r ver name <"$RUN_DIR/postgres.cluster" || true
    pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" stop >>"$LOG_DIR/postgres.log" 2>&1 || true
    rm -f "$RUN_DIR/postgres.cluster"
    ok "postgres stopped (cluster $ver/$name)"
  else
    ok "postgres left as it was (not started here)"
  fi
}

postgres_status() {
  local urls url
  mapfile -t urls < <(local_pg_urls)
  if [ "${#urls[@]}" -eq 0 ]; then
    ok "postgres  not needed (no localhost DATABASE_URL or MLC_TEST_DATABASE_URL)"
    return 0
  fi
  for url in "${urls[@]}"; do
    parse_pg_url "$url"
    if pg_query "$url" 'select 1' >/dev/null 2>&1; then
      ok "postgres  running at ${PG_HOST:-localhost}:$PG_PORT, database $PG_DB reachable"
    else
      fail "postgres  ${PG_HOST:-localhost}:$PG_PORT database $PG_DB not reachable"
      return 1
    fi
  done
}

service_main postgres "$@"
