#!/usr/bin/env bash
# sshd on 127.0.0.1:2222 (MLC_SSHD_PORT): the way in to the local SLURM cluster, keys only,
# with its host key pinned in .data/ssh/known_hosts for the SLURM adapter. Keys and config
# live in .data/ssh. Usually run by scripts/services.sh: start|stop|status.
set -euo pipefail
# shellcheck source=scripts/services/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

SSH_DIR=$DATA/ssh
SSH_PORT=${MLC_SSHD_PORT:-2222}
SSH_USER=$(current_user)

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

# With UsePAM no, sshd refuses even key logins to an account whose password is locked ('!').
# CI machines get '*' instead (still no password); elsewhere that is left to a person.
ssh_unlock_user() {
  getent shadow "$SSH_USER" | cut -d: -f2 | grep -q '^!' || return 0
  if [ "${CI:-}" != true ]; then
    fail "sshd: $SSH_USER's password is locked ('!'), so sshd refuses key logins; run: usermod -p '*' $SSH_USER"
    return 1
  fi
  host_change "usermod -p '*' $SSH_USER (its password was locked '!', so sshd refused key logins; '*' still allows no password)"
  usermod -p '*' "$SSH_USER"
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
  ssh_unlock_user
  # Privilege separation directory; tmpfs /run starts empty on every boot.
  host_dir /run/sshd 0755
  if ! "$sshd_bin" -t -f "$SSH_DIR/sshd_config" >>"$log" 2>&1; then
    fail "sshd: invalid config $SSH_DIR/sshd_config (log: $log)"
    show_log "$log"
    return 1
  fi
  # An absolute path: sshd re-executes itself for every connection.
  if ! "$sshd_bin" -f "$SSH_DIR/sshd_config" -E "$log" </dev/null >/dev/null 2>&1; then
    fail "sshd: $sshd_bin -f $SSH_DIR/sshd_config exited with an error (log: $log)"
    show_log "$log"
    return 1
  fi
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

service_main sshd "$@"
