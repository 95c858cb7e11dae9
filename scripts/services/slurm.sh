#!/usr/bin/env bash
# A one-node SLURM cluster on this machine: munge, slurmctld and slurmd, configured by
# infra/slurm/slurm.conf (rendered here; /etc/slurm/slurm.conf links to it). Needs root.
# Usually run by scripts/services.sh: start|stop|status.
set -euo pipefail
# shellcheck source=scripts/services/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

SLURM_ETC_CONF=/etc/slurm/slurm.conf
NODE=$(hostname -s)

# --- munge -------------------------------------------------------------------------------
munge_ready() { munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; }

# The key, its directory and munged's run/state/log directories, as the munge package lays them out.
munge_prepare() {
  local key=/etc/munge/munge.key
  if [ ! -s "$key" ]; then
    host_dir /etc/munge 0700
    host_change "create $key (a new munge key)"
    mungekey --create --keyfile="$key" 2>/dev/null || dd if=/dev/urandom of="$key" bs=1024 count=1 status=none
  fi
  if id munge >/dev/null 2>&1; then
    host_owner /etc/munge munge:munge
    host_owner "$key" munge:munge
    host_dir /run/munge 0755 munge:munge
    host_dir /var/lib/munge 0700 munge:munge
    host_dir /var/log/munge 0700 munge:munge
  else
    host_dir /run/munge 0755
  fi
  host_mode /etc/munge 0700
  host_mode "$key" 0400
}

munge_start() {
  if munge_ready; then
    ok "munge already running"
    return 0
  fi
  command -v munged >/dev/null || die "munge: not installed (apt-get install munge; or scripts/setup.sh)"
  munge_prepare
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

# --- slurmctld, slurmd -------------------------------------------------------------------
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
  local was=''
  if [ -L "$SLURM_ETC_CONF" ] && [ "$(readlink "$SLURM_ETC_CONF")" = "$SLURM_CONF_FILE" ]; then
    return 0
  fi
  if [ -L "$SLURM_ETC_CONF" ] && SLURM_CONF=$(readlink "$SLURM_ETC_CONF") slurmctld_up; then
    die "slurm: the local cluster of another checkout ($(readlink "$SLURM_ETC_CONF")) is running; stop it there first (scripts/services.sh stop slurm)"
  fi
  if [ -e "$SLURM_ETC_CONF" ] && ! grep -q '^ClusterName=mlc-local' "$SLURM_ETC_CONF"; then
    die "slurm: $SLURM_ETC_CONF exists and belongs to another cluster; move it aside to run the local one (infra/README.md)"
  fi
  if [ -L "$SLURM_ETC_CONF" ]; then
    was=" (was a link to $(readlink "$SLURM_ETC_CONF"))"
  elif [ -e "$SLURM_ETC_CONF" ]; then
    was=" (was a mlc-local config file)"
  fi
  host_dir "$(dirname "$SLURM_ETC_CONF")"
  host_change "link $SLURM_ETC_CONF -> $SLURM_CONF_FILE$was"
  ln -sfn "$SLURM_CONF_FILE" "$SLURM_ETC_CONF"
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
  munge_start
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

service_main slurm "$@"
