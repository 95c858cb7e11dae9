# shellcheck shell=bash
# What scripts/services.sh and the per-service scripts beside this file share: paths and
# settings read by more than one service, template rendering, announced changes to the host,
# and service_main, which runs one action of one service with `set -e` really in force.
# Sourced, never run.

# shellcheck source=scripts/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
cd "$ROOT"

# Slurm's clients read SLURM_CONF; sessions over SSH get it from sshd's SetEnv (sshd.sh) and
# the /etc/slurm/slurm.conf link (slurm.sh) instead. Exported, as every daemon started here had it.
SLURM_CONF_FILE=$ROOT/infra/slurm/slurm.conf
export SLURM_CONF=$SLURM_CONF_FILE

is_local_host() {
  case "$1" in '' | localhost | 127.* | ::1 | '[::1]') return 0 ;; *) return 1 ;; esac
}

# render TEMPLATE OUT KEY=VALUE...: fills @KEY@ fields; sets RENDER_CHANGED=1 when OUT changed.
RENDER_CHANGED=0
# shellcheck disable=SC2034 # RENDER_CHANGED is read by sshd.sh and slurm.sh
render() {
  local tpl=$1 out=$2 text kv
  shift 2
  text=$(<"$tpl")
  for kv in "$@"; do text=${text//"@${kv%%=*}@"/"${kv#*=}"}; done
  if grep -qE '@[A-Z_]+@' <<<"$text"; then
    die "$tpl: unfilled field $(grep -oE '@[A-Z_]+@' <<<"$text" | head -1)"
  fi
  RENDER_CHANGED=0
  if [ ! -f "$out" ] || [ "$(cat "$out")" != "$text" ]; then
    printf '%s\n' "$text" >"$out"
    RENDER_CHANGED=1
  fi
}

# --- changes to the host -----------------------------------------------------------------
# Anything outside the checkout (/etc, /run, /var, accounts, PostgreSQL's config) is announced
# with one line just before it is changed, and only when it actually changes.
host_change() { info "changing host: $*"; }

# host_mode PATH MODE: chmod, when the mode (octal, e.g. 0700) differs.
host_mode() {
  local now
  now=$(stat -c %a "$1")
  [ "$((8#$now))" -ne "$((8#$2))" ] || return 0
  host_change "chmod $2 $1 (was $now)"
  chmod "$2" "$1"
}

# host_owner PATH USER:GROUP: chown, when the owner differs.
host_owner() {
  local now
  now=$(stat -c %U:%G "$1")
  [ "$now" != "$2" ] || return 0
  host_change "chown $2 $1 (was $now)"
  chown "$2" "$1"
}

# host_dir DIR [MODE [USER:GROUP]]: creates DIR when missing; sets mode and owner when given.
host_dir() {
  local dir=$1 mode=${2:-} owner=${3:-} args=() how=''
  if [ -d "$dir" ]; then
    if [ -n "$mode" ]; then host_mode "$dir" "$mode"; fi
    if [ -n "$owner" ]; then host_owner "$dir" "$owner"; fi
    return 0
  fi
  if [ -n "$mode" ]; then
    args+=(-m "$mode")
    how+=" mode $mode"
  fi
  if [ -n "$owner" ]; then
    args+=(-o "${owner%:*}" -g "${owner#*:}")
    how+=" owner $owner"
  fi
  host_change "mkdir $dir${how}"
  install -d "${args[@]}" "$dir"
}

# --- database URLs (postgres.sh, and services.sh to know whether postgres is needed) ------
# parse_pg_url URL: sets PG_HOST PG_PORT PG_DB PG_ADMIN_URL (same server, database postgres).
# shellcheck disable=SC2034 # PG_PORT, PG_DB and PG_ADMIN_URL are read by postgres.sh
parse_pg_url() {
  local re='^(postgres|postgresql)://(([^@/]*)@)?(\[[^]]+\]|[^:/?]*)(:([0-9]+))?(/([^?]*))?(\?.*)?$'
  [[ "$1" =~ $re ]] || return 1
  PG_HOST=${BASH_REMATCH[4]}
  PG_PORT=${BASH_REMATCH[6]:-5432}
  PG_DB=${BASH_REMATCH[8]:-postgres}
  PG_ADMIN_URL="${BASH_REMATCH[1]}://${BASH_REMATCH[2]}${BASH_REMATCH[4]}${BASH_REMATCH[5]}/postgres${BASH_REMATCH[9]}"
}

# The database URLs that point at this machine: those are ours to start and create.
local_pg_urls() {
  local var url
  for var in DATABASE_URL MLC_TEST_DATABASE_URL; do
    url=${!var:-}
    if [ -n "$url" ] && parse_pg_url "$url" && is_local_host "$PG_HOST"; then printf '%s\n' "$url"; fi
  done | sort -u
}

# --- running one action ------------------------------------------------------------------
# Under `set -e` a failed step ends the service's script; this names that step, unless the
# script already said why on a ✗ line (fail sets MLC_FAILED). $(...) subshells inherit the
# trap (errtrace) but leave the verdict to their caller.
on_error() {
  [ "$BASHPID" = "$$" ] || return 0
  [ -n "${MLC_FAILED:-}" ] || fail "$SERVICE: $ACTION stopped: \`$2\` failed (exit $1) at ${3#"$ROOT/"}"
}

# service_main NAME ACTION: runs NAME_ACTION in this script's own shell, where errexit holds
# (it is not called from a condition or an || list). Run directly, a start or stop goes
# through scripts/services.sh to take its lock.
service_main() {
  SERVICE=$1 ACTION=${2:-}
  case "$ACTION" in start | stop | status) ;; *)
    echo "usage: scripts/services/$SERVICE.sh start|stop|status" >&2
    exit 2
    ;;
  esac
  if [ "$ACTION" != status ] && [ -z "${MLC_SERVICES_LOCKED:-}" ]; then
    exec bash "$ROOT/scripts/services.sh" "$ACTION" "$SERVICE"
  fi
  ensure_dirs
  MLC_FAILED=''
  set -eEuo pipefail
  trap 'on_error $? "$BASH_COMMAND" "${BASH_SOURCE[0]}:$LINENO"' ERR
  "${SERVICE}_${ACTION}"
}
