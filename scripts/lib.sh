# shellcheck shell=bash
# Helpers shared by scripts/*.sh: repository paths, one-line output, pid files, waiting.
# Sourced, never run.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Same default and override as temporal.config.ts (paths.data).
DATA="${MLC_DATA_DIR:-.data}"
case "$DATA" in /*) ;; *) DATA="$ROOT/$DATA" ;; esac
RUN_DIR="$DATA/run"
LOG_DIR="$DATA/logs"
STAMP_DIR="$DATA/stamps"
# shellcheck disable=SC2034 # used by the scripts that source this file
VENV="$ROOT/.venv"
# sshd and `su` sessions start with a minimal PATH; daemons and admin tools live in sbin.
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH="$PATH:/usr/sbin:/sbin" ;; esac
export PATH

ok() { printf '✓ %s\n' "$*"; }
info() { printf '→ %s\n' "$*"; }
warn() { printf '! %s\n' "$*" >&2; }
# MLC_FAILED: a ✗ line was printed (services/common.sh's ERR trap then adds none).
# shellcheck disable=SC2034
fail() {
  MLC_FAILED=1
  printf '✗ %s\n' "$*" >&2
}
die() {
  fail "$@"
  exit 1
}

is_root() { [ "$(id -u)" -eq 0 ]; }
current_user() { id -un; }

ensure_dirs() { mkdir -p "$RUN_DIR" "$LOG_DIR" "$STAMP_DIR"; }

# sha256 of the named files' contents plus any extra words, for stamp files.
fingerprint() {
  local extra=$1
  shift
  { cat "$@"; printf '%s' "$extra"; } | sha256sum | cut -d' ' -f1
}
stamp_matches() { [ -f "$STAMP_DIR/$1" ] && [ "$(cat "$STAMP_DIR/$1")" = "$2" ]; }
stamp_write() { printf '%s\n' "$2" >"$STAMP_DIR/$1"; }

# True when the pid in file $1 is alive (and, if $2 is given, its command line contains $2,
# so a recycled pid is not mistaken for our daemon).
pid_alive() {
  local file=$1 pattern=${2:-} pid
  [ -s "$file" ] || return 1
  pid=$(tr -dc '0-9' <"$file")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  [ -z "$pattern" ] && return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pattern"
}

# Sends TERM to the pid in $1, waits up to $2 s, then KILL; removes the pid file.
stop_pidfile() {
  local file=$1 wait_s=${2:-15} pid i
  if [ -s "$file" ]; then
    pid=$(tr -dc '0-9' <"$file")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for ((i = 0; i < wait_s * 4; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
      done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    fi
  fi
  rm -f "$file"
}

# wait_until SECONDS COMMAND...: polls COMMAND (quietly) until it succeeds or time runs out.
wait_until() {
  local timeout=$1 deadline
  shift
  deadline=$((SECONDS + timeout))
  while ((SECONDS < deadline)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  "$@" >/dev/null 2>&1
}

# await_started WHAT PID_FILE MATCH TIMEOUT_VAR DEFAULT LOG READY...: after a server was started
# in the background, polls READY until it succeeds. Fails with the log's last lines if the process
# (PID_FILE, its command line holding MATCH) exits first, or if the seconds in the environment
# variable TIMEOUT_VAR (DEFAULT when unset) pass; that failure names the variable to raise.
await_started() {
  local what=$1 pid_file=$2 match=$3 timeout_var=$4 log=$6 timeout deadline
  timeout=${!timeout_var:-$5}
  shift 6
  deadline=$((SECONDS + timeout))
  until "$@"; do
    if ! pid_alive "$pid_file" "$match"; then
      fail "$what exited during start-up (log: $log)"
      show_log "$log"
      rm -f "$pid_file"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      fail "$what: not ready after $timeout s (log: $log); if it is only slow, allow more with $timeout_var=SECONDS"
      show_log "$log"
      return 1
    fi
    sleep 0.5
  done
}

# True when something accepts TCP connections on host $1 port $2.
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# Prints the last lines of a log after a failure, so the cause is on screen.
show_log() {
  local log=$1
  [ -s "$log" ] || return 0
  printf '  --- last lines of %s ---\n' "$log" >&2
  tail -n "${2:-15}" "$log" | sed 's/^/  /' >&2
}
