#!/usr/bin/env bash
# The codec server (adapters/temporal-codec/serve.ts): workflow histories hold encrypted
# payloads, and the Temporal Web UI decodes them through this server, which temporal.sh names
# with --ui-codec-endpoint. A process of its own, so the UI reads history whether or not a
# worker runs. Address, keys and token come from the configuration the workers use
# (temporal.codec). Usually run by scripts/services.sh: start|stop|status.
set -euo pipefail
# shellcheck source=scripts/services/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CODEC_ENTRY=$ROOT/adapters/temporal-codec/serve.ts
CODEC_PID=$RUN_DIR/codec.pid
# Our server's command line, so that stop never hits another process.
CODEC_MATCH=adapters/temporal-codec/serve.ts

codec_node() { node --import tsx "$CODEC_ENTRY" "$@"; }

# Sets CODEC_URL, CODEC_HOST and CODEC_PORT from the configuration.
codec_where() {
  local hostport
  CODEC_URL=$(codec_node --print-url) || return 1
  hostport=${CODEC_URL#http://}
  CODEC_PORT=${hostport##*:}
  CODEC_HOST=${hostport%:*}
  CODEC_HOST=${CODEC_HOST#[}
  CODEC_HOST=${CODEC_HOST%]}
}

codec_up() { pid_alive "$CODEC_PID" "$CODEC_MATCH" && port_open "$CODEC_HOST" "$CODEC_PORT"; }

codec_start() {
  local log=$LOG_DIR/codec.log
  codec_where || die "codec: cannot read its settings (temporal.codec; the error is above; scripts/setup.sh installs node packages)"
  if codec_up; then
    ok "codec server already running ($CODEC_URL; the Web UI decodes payloads through it)"
    return 0
  fi
  if port_open "$CODEC_HOST" "$CODEC_PORT"; then
    fail "codec: port $CODEC_PORT is taken by another process; stop it or set MLC_CODEC_SERVER_PORT"
    return 1
  fi
  # setsid: the server outlives this script and ignores the terminal's signals.
  setsid node --import tsx "$CODEC_ENTRY" </dev/null >>"$log" 2>&1 &
  echo $! >"$CODEC_PID"
  await_started "codec: the codec server at $CODEC_URL" "$CODEC_PID" "$CODEC_MATCH" MLC_CODEC_START_TIMEOUT 60 "$log" codec_up || return 1
  ok "codec server started ($CODEC_URL; payloads in history are encrypted and the Web UI decodes them through it; log $log)"
}

codec_stop() {
  if pid_alive "$CODEC_PID" "$CODEC_MATCH"; then
    stop_pidfile "$CODEC_PID" 10
    ok "codec server stopped"
  else
    rm -f "$CODEC_PID"
    ok "codec server not running (nothing started here to stop)"
  fi
}

codec_status() {
  codec_where || {
    fail "codec     settings unreadable (temporal.codec; the error is above)"
    return 1
  }
  if codec_up; then
    ok "codec     running at $CODEC_URL (the Web UI decodes encrypted payloads through it)"
  else
    fail "codec     not running at $CODEC_URL (log: $LOG_DIR/codec.log)"
    return 1
  fi
}

service_main codec "$@"
