#!/usr/bin/env bash
# Set up and run the whole test suite on a fresh clone (the README's test command; .ci/run runs it).
# Installs what it needs itself, runs vitest, and ends with a plain "N passed, N failed, N skipped" line.
set -uo pipefail
cd "$(dirname "$0")/.."
START=$(date +%s)

# Container engine + local base images for the container tests; exports XEND_COMPAT_NO_ENGINE when
# none can run (those tests then skip with the reason). Chains an EXIT trap that cleans up.
source ci/containers.sh

# Debian's chromium for the HTML support-matrix page test (test/report-html.browser.test.ts); when it
# cannot be installed the test skips and says why. No browser is downloaded by playwright.
source ci/browser.sh

echo "[test] npm ci"
npm ci --no-audit --no-fund || { echo "0 passed, 1 failed"; exit 1; }

mkdir -p test-artifacts
rm -f test-artifacts/vitest.json
echo "[test] vitest"
npx vitest run --reporter=default --reporter=json --outputFile.json=test-artifacts/vitest.json
code=$?
echo "[test] wall time: $(( $(date +%s) - START ))s"
# Clean up (containers, the dockerd this script started) before the closing line, so that it comes last.
exit_cmd=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
trap - EXIT
[ -n "$exit_cmd" ] && eval "$exit_cmd"
node ci/summary.mjs test-artifacts/vitest.json || code=1
exit $code
