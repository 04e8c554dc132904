#!/usr/bin/env bash
# Headless Chromium for the HTML support-matrix test (test/report-html.browser.test.ts).
#
# Installs Debian's `chromium` package when /usr/bin/chromium is missing. No browser is downloaded by
# playwright: the test drives this system Chromium through playwright-core. When it cannot be
# installed (not root, no apt-get, package unavailable), the test skips and says why; this script
# never fails the run.
#
# Sourced by ci/test.sh, or run on its own: `bash ci/browser.sh`.

xc_browser_install() {
  if [ -x /usr/bin/chromium ]; then
    echo "[browser] /usr/bin/chromium present: $(/usr/bin/chromium --version 2>/dev/null || echo 'version unknown')"
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "[browser] no apt-get here; the HTML page test will skip (no /usr/bin/chromium)"
    return 0
  fi
  local sudo=""
  if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo="sudo -n"
    else
      echo "[browser] not root and no password-less sudo; the HTML page test will skip (no /usr/bin/chromium)"
      return 0
    fi
  fi
  echo "[browser] installing Debian's chromium package (apt-get update, apt-get install chromium)"
  mkdir -p test-artifacts
  local log=test-artifacts/browser-install.log
  if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get update >"$log" 2>&1; then
    echo "[browser] apt-get update failed (see $log); the HTML page test will skip"
    return 0
  fi
  if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >>"$log" 2>&1; then
    echo "[browser] apt-get install chromium failed (see $log); the HTML page test will skip"
    tail -n 5 "$log" | sed 's/^/[browser]   /'
    return 0
  fi
  if [ -x /usr/bin/chromium ]; then
    echo "[browser] installed: $(/usr/bin/chromium --version 2>/dev/null || echo 'version unknown')"
  else
    echo "[browser] chromium installed but /usr/bin/chromium is missing; the HTML page test will skip"
  fi
  return 0
}

xc_browser_install
