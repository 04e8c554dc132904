# shellcheck shell=bash
# Container engine for the test suite. SOURCED by ci/test.sh (not run): it must never exit the caller.
#
# 1. installs Debian's docker.io (and mmdebstrap) when missing (apt-get update first);
# 2. starts dockerd --iptables=false --ip-forward=false --ip-masq=false unless an engine answers
#    (containers then get no route off the machine; published ports still work through docker-proxy);
# 3. builds the local base images without any registry (ci/base-images.sh): node-scratch always,
#    debian-py27 (for the real xend sandbox) only when a Xen tree is given or XEND_COMPAT_BUILD_SANDBOX=1;
# 4. exports TESTCONTAINERS_RYUK_DISABLED=true and TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1;
# 5. exports XEND_COMPAT_RUN_ID (unless set) so that every container this run starts carries the label
#    org.xend-compat.run=<id>; on exit (a trap chained after the caller's) removes the containers and
#    networks with that label only (never a user's own containers, testcontainers' or ours from
#    another run) and stops the dockerd only if this script started it (a running engine is left alone).
#
# When no engine can run, nothing fails: XEND_COMPAT_NO_ENGINE="<reason>" is exported and the
# container tests skip with that reason while the rest of the suite runs.

XC_CT_T0=$(date +%s.%N)
xc_ct_log() { echo "[containers $(awk -v a="$XC_CT_T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1fs", b-a}')] $*"; }
XC_CT_DIR=${XC_CT_DIR:-/tmp/xend-compat-ci-docker}
XC_CT_DOCKERD_PID=""
XC_CT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

xc_ct_no_engine() {
  export XEND_COMPAT_NO_ENGINE="$1"
  xc_ct_log "no container engine: $1 (container tests will be skipped)"
}

xc_ct_engine_answers() { timeout 10 docker info >/dev/null 2>&1; }

xc_ct_cleanup() {
  command -v docker >/dev/null 2>&1 || return 0
  if xc_ct_engine_answers; then
    local label="org.xend-compat.run=$XEND_COMPAT_RUN_ID" ids left
    ids=$(docker ps -aq --filter "label=$label" 2>/dev/null || true)
    # shellcheck disable=SC2086
    [ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1
    docker network prune -f --filter "label=$label" >/dev/null 2>&1 || true
    left=$(docker ps -aq --filter "label=$label" 2>/dev/null | wc -l)
    xc_ct_log "cleanup: containers and networks of run $XEND_COMPAT_RUN_ID removed ($left left)"
  fi
  if [ -n "$XC_CT_DOCKERD_PID" ] && kill -0 "$XC_CT_DOCKERD_PID" 2>/dev/null; then
    kill -TERM "$XC_CT_DOCKERD_PID" 2>/dev/null || true
    local _i
    for _i in $(seq 1 100); do kill -0 "$XC_CT_DOCKERD_PID" 2>/dev/null || break; sleep 0.2; done
    xc_ct_log "cleanup: dockerd $XC_CT_DOCKERD_PID stopped"
  fi
}

# Chain onto whatever EXIT trap the caller already has (ours runs after it).
xc_ct_chain_exit_trap() {
  local prev
  prev=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
  if [ -n "$prev" ]; then
    # shellcheck disable=SC2064
    trap "$prev; xc_ct_cleanup" EXIT
  else
    trap xc_ct_cleanup EXIT
  fi
}

xc_ct_setup() {
  # 1. packages
  if ! command -v dockerd >/dev/null 2>&1 || ! command -v mmdebstrap >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
      if ! xc_ct_engine_answers; then
        xc_ct_no_engine "no docker engine answers and docker.io cannot be installed here (needs root and apt-get)"
        return 0
      fi
    else
      xc_ct_log "installing docker.io mmdebstrap (apt-get)"
      if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
          docker.io mmdebstrap; } >"$XC_CT_DIR.apt.log" 2>&1; then
        tail -5 "$XC_CT_DIR.apt.log"
        if ! xc_ct_engine_answers; then
          xc_ct_no_engine "apt-get install docker.io failed (see $XC_CT_DIR.apt.log)"
          return 0
        fi
      fi
    fi
  fi
  xc_ct_log "packages ready"

  # 2. engine
  if ! xc_ct_engine_answers; then
    if ! command -v dockerd >/dev/null 2>&1; then
      xc_ct_no_engine "dockerd is not installed"
      return 0
    fi
    mkdir -p "$XC_CT_DIR"
    setsid dockerd --iptables=false --ip-forward=false --ip-masq=false \
      >"$XC_CT_DIR/dockerd.log" 2>&1 </dev/null &
    XC_CT_DOCKERD_PID=$!
    echo "$XC_CT_DOCKERD_PID" >"$XC_CT_DIR/dockerd.pid"
    local _i
    for _i in $(seq 1 150); do xc_ct_engine_answers && break; kill -0 "$XC_CT_DOCKERD_PID" 2>/dev/null || break; sleep 0.2; done
    if ! xc_ct_engine_answers; then
      tail -20 "$XC_CT_DIR/dockerd.log"
      xc_ct_no_engine "dockerd did not start (see $XC_CT_DIR/dockerd.log)"
      return 0
    fi
    xc_ct_log "dockerd started (pid $XC_CT_DOCKERD_PID, $(docker version -f '{{.Server.Version}}' 2>/dev/null))"
  else
    xc_ct_log "docker engine already answers ($(docker version -f '{{.Server.Version}}' 2>/dev/null))"
  fi

  # 3. base images (no registry)
  local tag
  if tag=$(bash "$XC_CT_ROOT/ci/base-images.sh" node-scratch); then
    xc_ct_log "$tag ready"
  else
    xc_ct_no_engine "could not build the node-scratch base image"
    return 0
  fi
  local want_sandbox="${XEND_COMPAT_BUILD_SANDBOX:-}"
  if [ -z "$want_sandbox" ]; then
    local v
    for v in XEND_COMPAT_XEN_SRC_3_2 XEND_COMPAT_XEN_SRC_3_4_3 XEND_COMPAT_XEN_SRC_4_1_2; do
      if [ -n "${!v:-}" ] && [ -d "${!v}/tools/python/xen/xend" ]; then want_sandbox=1; fi
    done
  fi
  if [ "$want_sandbox" = 1 ]; then
    if tag=$(bash "$XC_CT_ROOT/ci/base-images.sh" debian-py27); then
      xc_ct_log "$tag ready"
    else
      xc_ct_log "sandbox base image not built: the sandbox container test will skip"
    fi
  else
    xc_ct_log "sandbox base image skipped (no Xen tree in XEND_COMPAT_XEN_SRC_*; XEND_COMPAT_BUILD_SANDBOX=1 builds it)"
  fi

  # 4. testcontainers: no Ryuk image to pull; /.dockerenv exists on these VMs, so pin the host
  export TESTCONTAINERS_RYUK_DISABLED=true
  export TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  echo "ci/containers.sh is sourced by ci/test.sh, not run: it sets up an engine for one test run and undoes it" >&2
  echo "when that run ends. To start an engine yourself: see 'xend-compat doctor'." >&2
  exit 2
fi
# One id per test run: every container the harness starts carries org.xend-compat.run=<id>.
export XEND_COMPAT_RUN_ID="${XEND_COMPAT_RUN_ID:-ci-$(date +%s)-$$}"

if [ -n "${XEND_COMPAT_NO_ENGINE:-}" ]; then
  xc_ct_log "XEND_COMPAT_NO_ENGINE is set ($XEND_COMPAT_NO_ENGINE): engine setup skipped"
else
  xc_ct_chain_exit_trap
  xc_ct_setup
fi
