#!/bin/bash
# One phase of building the xen SXPR code of a libvirt tree (a build copy, never the user's tree).
# Written for xend-compat from the measured recipe in facts/libvirt-build.md; nothing here is libvirt's.
#   phase.sh fix-source|bootstrap|fix-gnulib|configure|make|test
# Environment: B (the build copy, cwd), TOOLS (dir holding nononnull.h and py2 shim), VERSION (x.y.z),
#   JOBS (make -j), PY (the python for generators).
set -eu
phase=$1
cd "$B"
vge() { # vge A B: version A >= B
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}
case $phase in
fix-source)
  # GNU make >= 4 reads a test named `undefine` as a directive (tests/Makefile.am).
  if grep -q '^[[:space:]]*undefine[[:space:]]*\\$' tests/Makefile.am 2>/dev/null; then
    sed -i '/^[[:space:]]*undefine[[:space:]]*\\$/d' tests/Makefile.am; echo "fix: dropped the 'undefine' test"; fi
  # automake >= 1.12 removed AM_C_PROTOTYPES.
  if grep -q '^AM_C_PROTOTYPES' configure.ac; then sed -i '/^AM_C_PROTOTYPES/d' configure.ac; echo "fix: dropped AM_C_PROTOTYPES"; fi
  # bootstrap asks for perl XML::XPath only for docs/hvsupport.pl (docs are not built).
  if grep -q 'perl::XML::XPath' bootstrap.conf 2>/dev/null; then sed -i '/perl::XML::XPath/d' bootstrap.conf; echo "fix: dropped the XML::XPath build requirement"; fi
  # glibc >= 2.28: major()/minor() only from <sys/sysmacros.h>.
  for f in $(grep -lE '\b(major|minor) *\(' src/util/*.c src/conf/*.c 2>/dev/null || true); do
    if grep -q '^#include <config.h>' "$f" && ! grep -q 'sys/sysmacros.h' "$f"; then
      sed -i '0,/^#include <config.h>/s//#include <config.h>\n#include <sys\/sysmacros.h>/' "$f"; echo "fix: sysmacros in $f"; fi
  done
  ;;
bootstrap)
  if grep -q -- '--no-git' bootstrap; then
    ./bootstrap --no-git --gnulib-srcdir=.gnulib --skip-po --no-bootstrap-sync
  else
    ./bootstrap --gnulib-srcdir=.gnulib --skip-po
  fi
  ;;
fix-gnulib)
  g=gnulib/lib
  # glibc 2.16 removed gets.
  if [ -f $g/stdio.in.h ] && grep -q '_GL_WARN_ON_USE (gets' $g/stdio.in.h; then
    sed -i '/_GL_WARN_ON_USE (gets/d' $g/stdio.in.h; echo "fix: gnulib gets"; fi
  # glibc 2.28 removed _IO_ftrylockfile (gnulib's own 2018 change, re-done here).
  for f in fflush.c fpurge.c freading.c fseeko.c; do
    if [ -f $g/$f ] && grep -qE '^#[ ]*if defined _IO_ftrylockfile \|\|' $g/$f; then
      sed -i -E 's/^(#[ ]*if) defined _IO_ftrylockfile \|\|/\1 defined _IO_EOF_SEEN || defined _IO_ftrylockfile ||/' $g/$f; echo "fix: gnulib $f"; fi
  done
  if [ -f $g/stdio-impl.h ] && ! grep -q '_IO_IN_BACKUP 0x100' $g/stdio-impl.h; then
    printf '\n#if defined _IO_EOF_SEEN\n# if !defined _IO_UNBUFFERED\n#  define _IO_UNBUFFERED 0x2\n# endif\n# if !defined _IO_IN_BACKUP\n#  define _IO_IN_BACKUP 0x100\n# endif\n#endif\n' >> $g/stdio-impl.h
    echo "fix: gnulib stdio-impl.h"; fi
  ;;
configure)
  help=$(./configure --help)
  has() { grep -qE -- "--(with|without|enable|disable)-$1([= ]|\$)" <<<"$help"; }
  flags=()
  # Everything off but xen (and what xen needs in this release).
  for o in qemu uml openvz vmware libssh2 phyp xenapi vbox lxc esx hyperv parallels vz bhyve test \
      sasl yajl sanlock polkit avahi audit selinux apparmor dtrace numactl numad libpcap capng network netcf \
      interface secrets storage-dir storage-fs storage-lvm storage-iscsi storage-scsi storage-mpath storage-disk \
      storage-rbd storage-sheepdog storage-gluster storage-zfs storage-vstorage python hal udev libblkid blkid \
      macvtap virtualport dbus sysctl firewalld attr curl fuse glusterfs openwsman pciaccess ssh2 libssh \
      wireshark-dissector pm-utils login-shell nss-plugin host-validate bash-completion one xen-inotify; do
    has "$o" && flags+=("--without-$o")
  done
  if [ -d src/xen ]; then flags+=(--with-xen --without-libxl); else flags+=(--with-libxl); fi
  # Xen needs libvirtd from 1.1 on (configure turns xen off without it).
  if vge "$VERSION" 1.1.0; then flags+=(--with-libvirtd); else has libvirtd && flags+=(--without-libvirtd); fi
  # Before src/rpc existed (0.8.x), the remote driver needs a GnuTLS function GnuTLS 3 removed.
  if [ -d src/rpc ]; then flags+=(--with-remote); else flags+=(--without-remote ac_cv_search_xdrmem_create=-ltirpc); fi
  # From 3.x/4.x configure refuses to build without driver modules (the message lives in m4/ by then).
  if has driver-modules && ! grep -rqs "without driver modules is not supported" configure.ac m4; then flags+=(--without-driver-modules); fi
  has test-suite && flags+=(--with-test-suite)
  has init-script && flags+=(--with-init-script=none)
  has nls && flags+=(--disable-nls)
  echo "configure ${flags[*]}"
  # -fcommon: gcc >= 10 defaults to -fno-common; 0.9.10 defines a variable in a header (virfile.h).
  ./configure "${flags[@]}" CFLAGS="-g -O2 -fcommon" CPPFLAGS="-I/usr/include/tirpc -include $TOOLS/nononnull.h" LIBS=-ltirpc
  ;;
make)
  # Releases before 4.0 run Python 2 generators: make's PYTHON is our lib2to3 shim; later ones run python3.
  if vge "$VERSION" 4.0.0; then mk() { make -j"$JOBS" "$@"; }; else mk() { make -j"$JOBS" PYTHON="$PY" "$@"; }; fi
  q() { make -s -C "$1" -f Makefile -f - xc-print-var <<<"xc-print-var: ; @echo \$($2)"; }
  # Generated sources of drivers that are off (ESX, Hyper-V) come from Python 2 scripts; stubs do.
  if ! vge "$VERSION" 4.0.0; then
    for f in $(q src ESX_DRIVER_GENERATED) $(q src HYPERV_DRIVER_GENERATED); do [ -e src/$f ] || : > src/$f; done
    for s in .esx_vi_generator.stamp .hyperv_wmi_generator.stamp; do grep -q "$s" src/Makefile && touch src/$s; done
  fi
  mk -C gnulib/lib
  libs=$( (q tests sexpr2xmltest_LDADD; q tests xml2sexprtest_LDADD) | tr -s ' \t' '\n\n' | sed -n 's#^\.\./src/\(.*\.la\)$#\1#p' | sort -u)
  echo "targets: src BUILT_SOURCES $libs; tests sexpr2xmltest xml2sexprtest"
  mk -C src $(q src BUILT_SOURCES) $libs
  mk -C tests sexpr2xmltest xml2sexprtest
  ;;
test)
  cd tests
  rc=0
  for t in sexpr2xmltest xml2sexprtest; do
    echo "== $t"; ./$t || { rc=$?; echo "$t failed (exit $rc)"; }
  done
  exit $rc
  ;;
*) echo "unknown phase $phase" >&2; exit 64 ;;
esac
