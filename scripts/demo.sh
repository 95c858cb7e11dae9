#!/usr/bin/env bash
# npm run demo: one whole lifecycle of the Thai sentiment model on this machine — preprocess,
# train through SLURM over SSH, evaluate, audit, deploy, serve, monitor, retrain.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
started=$(date +%s)
MODEL=thai-sentiment
SPEC=examples/thai-sentiment.yaml
mlc() { node --import tsx cli/main.ts "$@"; }
step() { printf '\n\033[1m━━ %s\033[0m\n' "$*"; }

step "1/9 setup and services (idempotent)"
bash scripts/setup.sh
bash scripts/services.sh start
export PATH="$VENV/bin:$PATH"

step "2/9 worker: both task queues and the built-in endpoint, log in $LOG_DIR/worker.log"
# A previous demo's lifecycle and schedule would compete with this one: end them first.
temporal workflow terminate -w "mlc-$MODEL" --reason "new demo run" >/dev/null 2>&1 || true
temporal schedule delete -s "mlc-monitor-$MODEL" >/dev/null 2>&1 || true
rm -f "$LOG_DIR/worker.log" # so the wait below sees this run's "ready", not the last run's
node --import tsx workers/main.ts >"$LOG_DIR/worker.log" 2>&1 &
worker=$!
trap 'kill $worker 2>/dev/null; wait $worker 2>/dev/null || true' EXIT
wait_until 180 grep -q "mlc worker ready" "$LOG_DIR/worker.log" || { tail -30 "$LOG_DIR/worker.log"; die "the worker did not start"; }
grep "mlc worker ready" "$LOG_DIR/worker.log"
echo "── every part the configuration names, checked as the product uses it (mlc doctor)"
mlc doctor || die "mlc doctor found a part that does not work (the ✗ lines above say which, and the fix)"
# The spec requires signed decisions: each demo person gets a key pair (kept under .data, not
# in ~/.config) and an admin registers the public keys.
export MLC_KEYS_DIR="$DATA/demo-keys"
for who in alice bob mallory; do
  [ -f "$MLC_KEYS_DIR/$who.key" ] || mlc keys init --as "$who" >/dev/null
  mlc keys add "$who" "$(mlc keys show --as "$who")" --by demo-admin
done

step "3/9 requirements → preprocess → train on SLURM → evaluate"
mlc validate "$SPEC"
mlc start "$SPEC" --wait
mlc status "$MODEL"
echo "── last lines of the training job's log (mlc logs $MODEL)"
mlc logs "$MODEL" -n 8
echo "── the run as the registry tracks it: params, metrics, dataset, commit (mlc runs $MODEL; curves: mlc runs show <run>)"
mlc runs "$MODEL"

step "4/9 audit: a user who is not an auditor is refused (and recorded), then alice approves, signing with her key"
mlc audit approve "$MODEL" --as mallory --reason "I think it's fine" || true
mlc audit approve "$MODEL" --as alice --reason "meets the macro-F1 and accuracy gates; q recall reviewed in the model card"

step "5/9 deploy: bob ships the audited artifact to the local endpoint"
mlc deploy "$MODEL" --as bob --reason "first release"
echo "── aliases: champion is the deployed version, challenger the newest evaluated one (mlc alias list $MODEL)"
mlc alias list "$MODEL"
mlc predict --model "$MODEL" "ร้านนี้อร่อยมาก บริการดีสุดๆ" "ส่งของช้ามาก แย่ที่สุด" "เปิดกี่โมงครับ"
echo "── the showcase and the hand-written obvious examples (test/fixtures/obvious-examples.jsonl): every one should be right"
# The recipe does not get them all yet (bench/recipe.md: short questions the corpus mostly labels
# neu); the misses are listed here and repeated at the end as a known shortfall, not hidden.
examples_ok=1
node --import tsx scripts/check-examples.ts --model "$MODEL" || examples_ok=0

step "6/9 production traffic: 200 messages through the endpoint, each prediction logged"
node --import tsx scripts/send-traffic.ts data/wisesight-sample/feedback.jsonl "$MODEL" 200

step "7/9 analysts send labelled feedback"
mlc feedback data/wisesight-sample/feedback.jsonl --model "$MODEL" --source "analysts-$(date +%Y%m%dT%H%M%S)"

step "8/9 monitoring (a Temporal Schedule; run now instead of in an hour), two windows: one breached window alone never retrains"
# Each run judges the predictions since the previous one: inputs and outputs against the test
# split, estimated accuracy without labels (CBPE), and accuracy on the feedback; the summary
# ends with the path of the run's HTML report.
mlc monitor "$MODEL"
echo "── 100 more messages, then the second window (monitoring.consecutive is 2)"
node --import tsx scripts/send-traffic.ts data/wisesight-sample/feedback.jsonl "$MODEL" 100
mlc monitor "$MODEL"
echo "── the trend over runs (mlc monitor $MODEL --history)"
mlc monitor "$MODEL" --history
report=$(ls -t "$DATA/artifacts/monitoring/$MODEL/"*.html 2>/dev/null | head -1 || true)
[ -n "$report" ] || die "no monitoring report appeared; see $LOG_DIR/worker.log"

step "9/9 retrain: generation 2 adds the feedback rows, trains one epoch from the deployed version's weights (training.retrain), and goes back to audit"
mlc wait "$MODEL" --stage awaiting_audit --generation 2 --timeout 20m
mlc status "$MODEL"
echo "── the decision log: every hash link and signature (mlc audit verify $MODEL)"
mlc audit verify "$MODEL"

echo "── the endpoint through the run (its /metrics)"
node --import tsx scripts/endpoint-lag.ts || echo "(the endpoint's metrics could not be read)"

audit_page=$(ls -t "$DATA"/artifacts/models/"$MODEL"/evaluations/*/audit-package.html 2>/dev/null | head -1)
elapsed=$(( $(date +%s) - started ))
codec_url=$(node --import tsx adapters/temporal-codec/serve.ts --print-url)
cat <<MSG

Demo finished in $((elapsed / 60))m$((elapsed % 60))s.
  Web UI (filter by MlcModel = "$MODEL"):  http://127.0.0.1:${TEMPORAL_UI_PORT:-8233}/namespaces/default/workflows
    payloads are encrypted in Temporal's history (AES-256-GCM); the Web UI decodes them through the codec server at $codec_url
  audit package (self-contained HTML):     ${audit_page:-$DATA/artifacts/models/$MODEL/evaluations/}
  monitoring report:                       $report
  worker log:                              $LOG_DIR/worker.log
Generation 2 now awaits audit: MLC_KEYS_DIR=$MLC_KEYS_DIR mlc audit approve $MODEL --as alice --reason "..."  (with npm run worker running)
MSG
[ "$examples_ok" = 1 ] || echo "✗ known shortfall: the deployed model got showcase or obvious examples wrong (listed in step 5/9; bench/recipe.md has the recipe's figures and why)"
