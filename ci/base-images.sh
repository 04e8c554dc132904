#!/usr/bin/env bash
# Build the project's local base images WITHOUT any registry (there is none here: any pull fails).
# One source for ci/containers.sh and for the container backend (harness/container), which runs it
# when an image it needs is missing.
#
#   ci/base-images.sh node-scratch   FROM scratch + this host's node binary and the libs ldd lists
#   ci/base-images.sh debian-py27    Debian bookworm minbase (mmdebstrap | docker import) + pyenv's
#                                    Python 2.7.18 copied from this host, with the Debian libraries its
#                                    extension modules link against
#   ci/base-images.sh libvirt-build TAG PKG,PKG,...
#                                    Debian bookworm minbase (mmdebstrap | docker import) + the Debian
#                                    packages a libvirt build needs (the list and the TAG, a hash of it,
#                                    come from harness/libvirt/build: `--build-in container`)
#   ci/base-images.sh tag <name>     print the tag of an image without building it
#
# Prints one line per step on stderr and the image tag on stdout. Already present images are reused.
# Every image carries the label org.xend-compat=true.
set -euo pipefail

say() { echo "[base-images] $*" >&2; }
CTX_DIRS=()
trap 'for d in "${CTX_DIRS[@]}"; do rm -rf "$d"; done' EXIT
have_image() { docker image inspect "$1" >/dev/null 2>&1; }

node_bin() { command -v node; }
node_tag() { echo "xend-compat/node-scratch:$("$(node_bin)" -p 'process.versions.node')"; }
py27_home() {
  local root
  root="${PYENV_ROOT:-}"
  [ -n "$root" ] || root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
  echo "$root/versions/2.7.18"
}
py27_tag() { echo "xend-compat/debian-py27:bookworm"; }

# Copy a file and every shared library ldd lists for it into a root directory, keeping paths.
copy_with_libs() {
  local root="$1" file="$2" lib
  mkdir -p "$root$(dirname "$file")"
  cp -L "$file" "$root$file"
  for lib in $(ldd "$file" | grep -o '/[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")"
    [ -e "$root$lib" ] || cp -L "$lib" "$root$lib"
  done
}

build_node_scratch() {
  local tag ctx node
  tag=$(node_tag)
  if have_image "$tag"; then say "$tag present"; echo "$tag"; return 0; fi
  node=$(readlink -f "$(node_bin)")
  ctx=$(mktemp -d); CTX_DIRS+=("$ctx")
  say "$tag: copying $node and its libraries"
  mkdir -p "$ctx/root/tmp" "$ctx/root/usr/bin"
  copy_with_libs "$ctx/root" "$node"
  [ "$node" = /usr/bin/node ] || ln -s "$node" "$ctx/root/usr/bin/node"
  chmod 1777 "$ctx/root/tmp"
  printf '%s\n' 'FROM scratch' 'COPY root/ /' 'LABEL org.xend-compat=true org.xend-compat.image=node-scratch' \
    'ENTRYPOINT ["/usr/bin/node"]' >"$ctx/Dockerfile"
  say "$tag: docker build"
  DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$ctx" >/dev/null 2>"$ctx/build.err" || { cat "$ctx/build.err" >&2; return 1; }
  say "$tag built"
  echo "$tag"
}

# Debian packages that hold the libraries pyenv's Python 2.7 and its extension modules need
# (found with ldd + dpkg -S on this host; tkinter's X11/Tk stack is left out).
py27_packages() {
  local home="$1"
  find "$home" -name '*.so*' -type f ! -name '_tkinter*' -print0 | xargs -0 ldd 2>/dev/null \
    | grep -o '=> /[^ ]*' | awk '{print $2}' | grep -v "^$home" | sort -u \
    | while read -r lib; do dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib" 2>/dev/null || true; done \
    | cut -d: -f1 | sort -u | grep -v -E '^(libc6|libgcc-s1)$' | paste -sd, -
}

build_debian_py27() {
  local tag home pkgs
  tag=$(py27_tag)
  if have_image "$tag"; then say "$tag present"; echo "$tag"; return 0; fi
  home=$(py27_home)
  [ -x "$home/bin/python2.7" ] || { say "no Python 2.7.18 at $home (pyenv install 2.7.18)"; return 1; }
  command -v mmdebstrap >/dev/null || { say "mmdebstrap missing (apt-get install mmdebstrap)"; return 1; }
  pkgs=$(py27_packages "$home")
  say "$tag: mmdebstrap bookworm minbase + ${pkgs:-nothing extra}"
  # Python goes in at the same path as on the host: its compiled-in prefix then just works.
  mmdebstrap --quiet --variant=minbase ${pkgs:+--include="$pkgs"} --mode=root --format=tar \
    --customize-hook="mkdir -p \"\$1$(dirname "$home")\"" \
    --customize-hook="copy-in $home $(dirname "$home")" \
    --customize-hook="ln -s $home/bin/python2.7 \"\$1/usr/local/bin/python2.7\"" \
    --customize-hook="ln -s $home/bin/python2.7 \"\$1/usr/local/bin/python2\"" \
    --customize-hook="chroot \"\$1\" /usr/local/bin/python2.7 -c 'import ssl, zlib, sqlite3, json'" \
    bookworm - http://deb.debian.org/debian \
    | docker import -c 'CMD ["/bin/bash"]' -c 'LABEL org.xend-compat=true org.xend-compat.image=debian-py27' \
      - "$tag" >/dev/null
  say "$tag built"
  echo "$tag"
}

# The image `--build-in container` builds libvirt trees in: bookworm + the build packages, nothing of
# this host copied in (the build copy, our scripts and driver source are bind-mounted at run time).
build_libvirt_build() {
  local tag="$1" pkgs="$2"
  [ -n "$tag" ] && [ -n "$pkgs" ] || { echo "usage: $0 libvirt-build TAG PKG,PKG,..." >&2; return 2; }
  if have_image "$tag"; then say "$tag present"; echo "$tag"; return 0; fi
  command -v mmdebstrap >/dev/null || { say "mmdebstrap missing (apt-get install mmdebstrap)"; return 1; }
  say "$tag: mmdebstrap bookworm minbase + $pkgs"
  mmdebstrap --quiet --variant=minbase --include="$pkgs" --mode=root --format=tar \
    --customize-hook='chroot "$1" gcc --version >/dev/null' \
    bookworm - http://deb.debian.org/debian \
    | docker import -c 'CMD ["/bin/bash"]' -c 'ENV LC_ALL=C' \
      -c 'LABEL org.xend-compat=true org.xend-compat.image=libvirt-build' - "$tag" >/dev/null
  have_image "$tag" || { say "$tag: docker import did not produce the image"; return 1; }
  say "$tag built"
  echo "$tag"
}

case "${1:-}" in
  node-scratch) build_node_scratch ;;
  libvirt-build) build_libvirt_build "${2:-}" "${3:-}" ;;
  debian-py27) build_debian_py27 ;;
  tag)
    case "${2:-}" in
      node-scratch) node_tag ;;
      debian-py27) py27_tag ;;
      *) echo "usage: $0 tag node-scratch|debian-py27" >&2; exit 2 ;;
    esac ;;
  *) echo "usage: $0 node-scratch|debian-py27|libvirt-build TAG PKGS|tag <name>" >&2; exit 2 ;;
esac
