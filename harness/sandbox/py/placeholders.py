# -*- coding: utf-8 -*-
"""Placeholder files at the paths a domain names (kernel, ramdisk, HVM loader,
device model), so xend's existence checks pass without touching the host.

Modes:
* namespace: the process runs in a private mount namespace (started through
  `unshare --mount --propagation private` as root).  The top directory of a path
  (/usr, /boot, /opt, ...) gets an overlay mount whose upper layer lives on a
  tmpfs inside the sandbox's state directory; the placeholder is created in that
  overlay.  The host's directories are never written.
* direct: create the files in place (inside a container whose filesystem is
  private anyway).  Only allowed where XEND_COMPAT_IN_CONTAINER=1 (the sandbox
  image's Dockerfile sets it): on a host it would write the host's directories.

Before any mount, namespace mode checks that this process really has a mount
namespace of its own (see mode_refusal); otherwise the overlays would land on
the host's /usr, /var, /boot.
* none: provide nothing (paths that do not exist make 4.1.x reject HVM configs).
Written for xend-compat.
"""
import os
import subprocess
import threading

import sandbox_state

# Top directories that may be overlaid (never /tmp, /proc, /dev, /sys, /run, home of the state dir).
OVERLAY_TOPS = ('/usr', '/boot', '/opt', '/var', '/etc', '/srv', '/lib', '/lib64', '/lib32', '/xen', '/root',
                '/home', '/mnt', '/media')

# Top directories xend writes into (logs, lock and state files under /var; /etc/xen), overlaid as
# soon as the sandbox starts in a private mount namespace, whether or not a placeholder is needed.
WRITTEN_TOPS = ('/var', '/etc')

# What xend itself falls back to when a config names no loader / device model
# (3.x: auxbin under /usr/lib64/xen/bin; 4.1: xen.util.path LIBEXEC and firmware dir),
# plus the x86_64 paths libvirt's own test configs use.
DEFAULT_PATHS = (
    '/usr/lib/xen/bin/qemu-dm',
    '/usr/lib/xen/boot/hvmloader',
    '/usr/lib64/xen/bin/qemu-dm',
    '/usr/lib64/xen/boot/hvmloader',
)

# Config keys whose values xend checks for existence (and vbd 'uname' file images, below).
PATH_KEYS = ('kernel', 'ramdisk', 'loader', 'device_model')


IN_CONTAINER_ENV = 'XEND_COMPAT_IN_CONTAINER'


def _mnt_ns(pid):
    try:
        return os.readlink('/proc/%s/ns/mnt' % pid)
    except OSError:
        return None


def private_mount_namespace():
    """None when this process is in a mount namespace of its own, else why not.

    Compared with pid 1 and with the parent process (the harness: `unshare --mount`
    without --fork execs this process in place); one of them must be readable."""
    mine = _mnt_ns('self')
    if mine is None:
        return 'cannot read /proc/self/ns/mnt'
    refs = [(who, ns) for who, ns in (('pid 1', _mnt_ns(1)), ('the parent process', _mnt_ns(os.getppid()))) if ns]
    if not refs:
        return 'cannot read the mount namespace of pid 1 or of the parent process to compare with'
    for who, ns in refs:
        if ns == mine:
            return 'this process shares the mount namespace of %s (%s)' % (who, ns)
    return None


def mode_refusal(mode, environ=None):
    """Why placeholder mode `mode` must not run here, or None."""
    environ = os.environ if environ is None else environ
    if mode == 'namespace':
        why = private_mount_namespace()
        if why:
            return ("placeholders 'namespace' needs a private mount namespace, and %s: start the sandbox "
                    "through `unshare --mount --propagation private` as root (the harness does when it finds "
                    "unshare), or use placeholders 'none'" % why)
    if mode == 'direct' and environ.get(IN_CONTAINER_ENV) != '1':
        return ("placeholders 'direct' creates files at host paths; it is only allowed inside the sandbox "
                "container image (%s=1, set by its Dockerfile): use 'namespace' or 'none'" % IN_CONTAINER_ENV)
    return None


class Placeholders(object):
    def __init__(self, mode, state_dir):
        self.mode = mode
        self.state_dir = os.path.realpath(state_dir)
        self.lock = threading.Lock()
        self.provided = []       # paths created by us
        self.refused = []        # (path, reason)
        self.overlays = {}       # top dir -> upper dir
        self.existing = []       # paths asked for that already existed

    def describe(self):
        return {'mode': self.mode, 'provided': sorted(self.provided),
                'refused': [{'path': p, 'reason': r} for p, r in self.refused],
                'overlays': sorted(self.overlays.keys()), 'existing': list(self.existing)}

    def provide(self, path):
        """Make sure `path` exists as a file; returns True if it exists afterwards."""
        with self.lock:
            return self._provide(path)

    def _refuse(self, path, reason):
        if (path, reason) not in self.refused:
            self.refused.append((path, reason))
        sandbox_state.record('placeholder.refused', path=path, reason=reason)
        return False

    def _provide(self, path):
        if not isinstance(path, str) or not path.startswith('/') or '\0' in path:
            return False
        path = os.path.normpath(path)
        if path in self.provided:
            return True
        if os.path.exists(path):
            if path not in self.existing:
                self.existing.append(path)
            return True
        if self.mode == 'none':
            return self._refuse(path, 'placeholder mode none')
        real = _resolve(path)
        if real.startswith(self.state_dir + '/'):
            return self._create(path, real)
        if self.mode == 'direct':
            why = mode_refusal('direct')
            if why:
                return self._refuse(path, why)
            return self._create(path, real)
        top = '/' + real.split('/')[1]
        if top not in OVERLAY_TOPS:
            return self._refuse(path, 'top directory %s is not one the sandbox overlays' % top)
        if self.state_dir == top or self.state_dir.startswith(top + '/'):
            return self._refuse(path, 'top directory %s holds the sandbox state dir' % top)
        if not os.path.isdir(top):
            return self._refuse(path, 'top directory %s does not exist on this host' % top)
        if top not in self.overlays:
            if not self._overlay(top):
                return self._refuse(path, 'could not mount an overlay on %s' % top)
        return self._create(path, real)

    def overlay_top(self, top):
        """Overlay `top` now (namespace mode only; not a link, not holding the state dir). True if overlaid."""
        with self.lock:
            if self.mode != 'namespace' or top in self.overlays:
                return top in self.overlays
            if os.path.islink(top) or not os.path.isdir(top):
                return False
            if self.state_dir == top or self.state_dir.startswith(top + '/'):
                return False
            return self._overlay(top)

    def _overlay(self, top):
        if private_mount_namespace() is not None:
            return False
        base = os.path.join(self.state_dir, 'overlay')
        if not os.path.isdir(base):
            os.makedirs(base)
            subprocess.check_call(['mount', '-t', 'tmpfs', '-o', 'mode=0755', 'xend-compat', base])
        name = top.strip('/').replace('/', '_')
        upper = os.path.join(base, name, 'upper')
        work = os.path.join(base, name, 'work')
        os.makedirs(upper)
        os.makedirs(work)
        rc = subprocess.call(['mount', '-t', 'overlay', 'overlay', '-o',
                              'lowerdir=%s,upperdir=%s,workdir=%s' % (top, upper, work), top])
        if rc != 0:
            return False
        self.overlays[top] = upper
        sandbox_state.record('placeholder.overlay', top=top, upper=upper)
        return True

    def _create(self, path, real):
        try:
            d = os.path.dirname(real)
            if not os.path.isdir(d):
                os.makedirs(d)
            if not os.path.exists(real):
                f = open(real, 'w')
                f.close()
            os.chmod(real, 0755)
        except (OSError, IOError), e:
            return self._refuse(path, str(e))
        self.provided.append(path)
        sandbox_state.record('placeholder.created', path=path)
        return True

    def provide_for_config(self, tree):
        """Walk a parsed SXP config (nested lists of strings) for PATH_KEYS with absolute paths."""
        out = []
        stack = [tree]
        while stack:
            node = stack.pop()
            if not isinstance(node, list):
                continue
            if len(node) >= 2 and node[0] in PATH_KEYS and isinstance(node[1], str) \
                    and node[1].startswith('/'):
                out.append(node[1])
            # disk images: (uname file:/path), (uname tap:aio:/path), ... (not phy: devices)
            if len(node) >= 2 and node[0] == 'uname' and isinstance(node[1], str) \
                    and not node[1].startswith('phy:') and ':/' in node[1]:
                out.append(node[1][node[1].rindex(':/') + 1:])
            stack.extend([c for c in node if isinstance(c, list)])
        for p in out:
            self.provide(p)
        return out


def _resolve(path):
    """realpath of the deepest existing ancestor, joined with the rest."""
    head, rest = path, []
    while head != '/' and not os.path.exists(head):
        head, tail = os.path.split(head)
        rest.insert(0, tail)
    return os.path.join(os.path.realpath(head), *rest) if rest else os.path.realpath(head)
