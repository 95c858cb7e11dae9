#!/usr/bin/env bash
# Runs the local services the project talks to, each idempotently, with logs under
# .data/logs and pid files under .data/run. One script per service in scripts/services/:
#   temporal  Temporal CLI dev server (SQLite file, Web UI), search attributes registered
#   codec     the codec server the Web UI decodes the encrypted payloads through
#   sshd      sshd on 127.0.0.1:2222, host key pinned in .data/ssh/known_hosts
#   slurm     munge + slurmctld + slurmd: a one-node cluster on this machine
#   postgres  the Debian PostgreSQL cluster, only when a localhost database URL names it
# This entry point picks the services, takes the start/stop lock, runs each service's script
# in its own bash (with `set -e` in force there) and reports which ones failed.
# Usage: scripts/services.sh start|stop|status [temporal|codec|sshd|slurm|postgres ...]
set -euo pipefail
# shellcheck source=scripts/services/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/services/common.sh"

usage() {
  echo "usage: scripts/services.sh start|stop|status [temporal|codec|sshd|slurm|postgres ...]" >&2
  exit 2
}

default_services() {
  local list=(temporal codec sshd slurm)
  # stop also covers a cluster an earlier start brought up.
  if [ -n "$(local_pg_urls)" ] || { [ "$action" = stop ] && [ -s "$RUN_DIR/postgres.cluster" ]; }; then
    list+=(postgres)
  fi
  printf '%s\n' "${list[@]}"
}

# run_service NAME ACTION: that service's script in a child bash; its exit status.
run_service() { bash "$ROOT/scripts/services/$1.sh" "$2"; }

[ $# -ge 1 ] || usage
action=$1
shift
if [ $# -gt 0 ]; then services=("$@"); else mapfile -t services < <(default_services); fi
for s in "${services[@]}"; do
  case "$s" in temporal | codec | sshd | slurm | postgres) ;; *) fail "unknown service '$s'"; usage ;; esac
done
case "$action" in start | stop | status) ;; *) usage ;; esac

ensure_dirs
rc=0
# One start or stop at a time: parallel test runs share these daemons. flock holds the lock
# and closes it for us (-o), so the daemons we spawn do not inherit it.
if [ "$action" != status ] && [ -z "${MLC_SERVICES_LOCKED:-}" ]; then
  MLC_SERVICES_LOCKED=1 flock -o -w 300 -E 75 "$RUN_DIR/services.lock" \
    bash "$ROOT/scripts/services.sh" "$action" "${services[@]}" && exit 0 || rc=$?
  [ "$rc" -ne 75 ] || die "another services.sh start/stop still holds $RUN_DIR/services.lock after 300 s"
  exit "$rc"
fi
case "$action" in
start)
  failed=()
  for s in "${services[@]}"; do run_service "$s" start || failed+=("$s"); done
  if [ "${#failed[@]}" -gt 0 ]; then
    rc=1
    fail "some services did not start (${failed[*]}); see the messages above"
  fi
  ;;
stop)
  for ((i = ${#services[@]} - 1; i >= 0; i--)); do run_service "${services[i]}" stop || rc=1; done
  ;;
status)
  # One stream, so the lines stay in order.
  for s in "${services[@]}"; do run_service "$s" status 2>&1 || rc=1; done
  ;;
esac
exit "$rc"
