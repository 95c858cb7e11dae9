#!/usr/bin/env bash
# npm run demo:azure: the same lifecycle as `npm run demo`, deployed to an Azure ML managed
# online endpoint — here the emulated stack (Azurite for Blob, the Azure ML control-plane
# contract server, and the real Azure ML inference server running the packaged score.py).
# For a real workspace, see README "Deploying to Azure ML".
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
started=$(date +%s)
MODEL=thai-sentiment-azure
SPEC=examples/thai-sentiment-azure.yaml
mlc() { node --import tsx cli/main.ts "$@"; }
step() { printf '\n\033[1m━━ %s\033[0m\n' "$*"; }

step "1/7 setup and services (idempotent)"
bash scripts/setup.sh
bash scripts/services.sh start
export PATH="$VENV/bin:$PATH"

step "2/7 emulated Azure: Azurite (Blob) + Azure ML control plane + azmlinfsrv; log in $LOG_DIR/azure-emulated.log"
# Remove what an earlier run left, so the waits below see this run's lines, not the last one's.
rm -f "$DATA/azure-emulated/env.sh" "$LOG_DIR/azure-emulated.log" "$LOG_DIR/worker-azure.log"
node --import tsx infra/azure-emulated/main.ts "$DATA/azure-emulated" >"$LOG_DIR/azure-emulated.log" 2>&1 &
azure=$!
cleanup() { kill "${worker:-}" "$azure" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
wait_until 90 grep -q "azure emulated ready" "$LOG_DIR/azure-emulated.log" || { tail -30 "$LOG_DIR/azure-emulated.log"; die "the emulated Azure stack did not start"; }
# shellcheck disable=SC1091
source "$DATA/azure-emulated/env.sh"
grep "azure emulated:" "$LOG_DIR/azure-emulated.log"
mlc config show | grep "^workspaces"

step "3/7 worker (MLC_CONFIG names workspace \"emulated\"), log in $LOG_DIR/worker-azure.log"
temporal workflow terminate -w "mlc-$MODEL" --reason "new demo run" >/dev/null 2>&1 || true
temporal schedule delete -s "mlc-monitor-$MODEL" >/dev/null 2>&1 || true
node --import tsx workers/main.ts >"$LOG_DIR/worker-azure.log" 2>&1 &
worker=$!
wait_until 180 grep -q "mlc worker ready" "$LOG_DIR/worker-azure.log" || { tail -30 "$LOG_DIR/worker-azure.log"; die "the worker did not start"; }
echo "── every part the configuration names, the emulated workspace included (mlc doctor)"
mlc doctor || die "mlc doctor found a part that does not work (the ✗ lines above say which, and the fix)"

step "4/7 requirements → preprocess → train on SLURM → evaluate"
mlc validate "$SPEC"
mlc start "$SPEC" --wait
mlc status "$MODEL"

step "5/7 audit"
mlc audit approve "$MODEL" --as alice --reason "gates met; reviewed the model card"

step "6/7 deploy to Azure ML: package → Blob (write-once) → register → deployment version-1 → smoke test → traffic"
mlc deploy "$MODEL" --as bob --reason "first release to Azure ML"
mlc status "$MODEL" | tail -4

step "7/7 score through the endpoint's scoring URI (azmlinfsrv running the packaged score.py)"
mlc predict --endpoint "azureml://emulated/$MODEL" "ร้านนี้อร่อยมาก บริการดีสุดๆ" "ส่งของช้ามาก แย่ที่สุด" "เปิดกี่โมงครับ"

elapsed=$(( $(date +%s) - started ))
cat <<MSG

Azure demo finished in $((elapsed / 60))m$((elapsed % 60))s: the audited version serves on Azure ML endpoint $MODEL (emulated).
  The control plane here is a contract server that checks every request against the SDK's own
  schema; nothing was sent to Azure. README "Deploying to Azure ML" says how to use a real workspace.
MSG
