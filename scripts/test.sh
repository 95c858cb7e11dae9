#!/usr/bin/env bash
# What `npm test` runs: setup, lint, the local services, then the whole suite (every vitest
# project and the pytest tests of the job side), ending with one line "N passed, M failed".
# Arguments go to vitest (e.g. `npm test -- --project unit`). Services stay up for the next
# run unless MLC_STOP_SERVICES=1.
set -uo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT" || exit 1

bash scripts/setup.sh || exit 1

# Lint (eslint, prettier --check, tsc) needs node_modules, so it runs after setup; the suite still runs
# when it fails, and the failure counts as one in the last line.
echo "── lint"
npm run --silent lint </dev/null
lint_rc=$?
lint_fail=0
[ "$lint_rc" -ne 0 ] && lint_fail=1 && echo "✗ lint failed (npm run lint): counted as one failure"

export MLC_TEST_DATABASE_URL=${MLC_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/mlc_test}
bash scripts/services.sh start || exit 1

results=$DATA/test-results
mkdir -p "$results"
rm -f "$results/vitest.json" "$results/pytest.xml"

echo "── vitest"
npx vitest run --reporter=default --reporter=json --outputFile.json="$results/vitest.json" "$@" </dev/null
vitest_rc=$?

pytest_rc=0
if [ -d slurm/tests ]; then
  echo "── pytest slurm/tests"
  "$VENV/bin/python" -m pytest -q slurm/tests --junitxml="$results/pytest.xml" </dev/null
  pytest_rc=$?
  # 5: no tests collected, which is not a failure of any test.
  [ "$pytest_rc" -eq 5 ] && pytest_rc=0
fi

# Counts come from the machine-readable reports; a run that crashed before writing its
# report counts as one failure so the total never hides it.
read -r v_pass v_fail < <(node -e '
  try {
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    // A file that failed to load has no tests to count: count the file once.
    const broken = (r.testResults ?? []).filter((f) => f.status === "failed" && !(f.assertionResults ?? []).length).length;
    console.log(r.numPassedTests ?? 0, (r.numFailedTests ?? 0) + broken);
  } catch { console.log(0, 0); }' "$results/vitest.json")
if [ ! -s "$results/vitest.json" ] && [ "$vitest_rc" -ne 0 ]; then v_fail=1; fi

read -r p_pass p_fail < <("$VENV/bin/python" - "$results/pytest.xml" <<'EOF' 2>/dev/null || echo 0 0
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print(0, 0); sys.exit()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
tests = failed = skipped = 0
for s in suites:
    tests += int(s.get("tests", 0)); skipped += int(s.get("skipped", 0))
    failed += int(s.get("failures", 0)) + int(s.get("errors", 0))
print(tests - failed - skipped, failed)
EOF
)
if [ ! -s "$results/pytest.xml" ] && [ "$pytest_rc" -ne 0 ]; then p_fail=1; fi

[ "${MLC_STOP_SERVICES:-0}" = 1 ] && bash scripts/services.sh stop

echo "$((v_pass + p_pass)) passed, $((v_fail + p_fail + lint_fail)) failed"
[ "$lint_rc" -eq 0 ] && [ "$vitest_rc" -eq 0 ] && [ "$pytest_rc" -eq 0 ] && [ $((v_fail + p_fail)) -eq 0 ]
