#!/usr/bin/env bash
# Checks a training recipe the way the demo uses it, without the services: the spec's data goes
# through the lifecycle's own preprocess (same clean, same split, same dataset hash), slurm/train.py
# trains on it with the spec's params on this machine's CPU, and the model.onnx it writes is scored
# through the endpoint's ONNX scorer on the lifecycle's test split (what the spec's gates check) and
# on the corpus's own valid split, data/wisesight/valid.jsonl (never trained on: the demo's data is
# the corpus train split). Prints the training wall time, accuracy, macro-F1, per-class recall and F1,
# the three texts the demo predicts and the hand-written obvious examples (test/fixtures/
# obvious-examples.jsonl; scripts/check-examples.ts). Results and the recipe's history: bench/recipe.md.
#
#   scripts/eval-recipe.sh [SPEC] [OUT]        defaults: examples/thai-sentiment.yaml, /tmp/mlc-recipe
#   PARAMS='{"epochs": 4}' scripts/eval-recipe.sh      params merged over the spec's (a quick what-if)
#
# OUT is replaced (only an empty folder or an earlier run's: one holding config.json). One training at a time: it uses every core (OMP_NUM_THREADS to pin fewer).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
SPEC=${1:-examples/thai-sentiment.yaml}
OUT=${2:-/tmp/mlc-recipe}
PY=${PYTHON:-$ROOT/.venv/bin/python}
HELD_OUT=${HELD_OUT:-data/wisesight/valid.jsonl}

if [ -e "$OUT" ] && [ -n "$(ls -A "$OUT")" ] && [ ! -f "$OUT/config.json" ]; then
  echo "eval-recipe: $OUT is not empty and not an earlier eval-recipe output; pick another OUT" >&2
  exit 2
fi
rm -rf "$OUT"
mkdir -p "$OUT"
node --import tsx scripts/eval-recipe.ts prep "$SPEC" "$OUT" "${PARAMS:-}"
started=$(date +%s.%N)
"$PY" slurm/train.py --config "$OUT/config.json" --data-dir "$OUT/data" --out-dir "$OUT/run" --cache-dir "$OUT/cache" \
  | tee "$OUT/train.log" | grep -E '^(rows|tokenizer vocab|distillation teacher|epoch |early stopping|average of|pretrain epoch|done)'
wall=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
echo "train.py wall ${wall}s (train_seconds $(node -p 'require(process.argv[1]).train_seconds.toFixed(0)' "$OUT/run/metrics.json")s in the loop)"
node --import tsx scripts/eval-recipe.ts score "$OUT/run" "$OUT/data/test.jsonl" "$HELD_OUT"
