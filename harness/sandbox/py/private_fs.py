# -*- coding: utf-8 -*-
"""The sandbox owns nothing of the host: every place xend writes is private to it.

xend writes /var/run/xend (boot loader fifos, device model sentinels), /var/run/tap (qemu fifos),
temporary files through Python's tempfile (the host's /tmp), and util-linux's mount(8), which the
placeholder overlays use, writes /run/mount/utab.  /var/run is a link to /run on current systems,
and /run and /tmp are not among the overlaid top directories, so all of that landed on the host.

In a private mount namespace (placeholders 'namespace'; the harness starts Python through
`unshare --mount --propagation private`) this module, before any other mount:

* mounts a tmpfs on /run (and on /var/run when that is a directory of its own), with mount(2)
  directly, so that not even mount(8)'s bookkeeping reaches the host's /run;
* mounts a tmpfs on /tmp, with the sandbox's state directory (usually under the host's /tmp) bound
  back at its own path inside it, so xend and the harness still meet there;
* points TMPDIR (and tempfile) at <state dir>/tmp, in every mode.

The overlays of /var, /etc and the other top directories (placeholders.py) keep writes to those
trees in the sandbox's tmpfs as well.  Without a private mount namespace nothing is mounted: as
root that would mean xend writing the host's /run, so sandbox_main refuses to start as root then.
Written for xend-compat.
"""
import ctypes
import ctypes.util
import os
import tempfile

MS_NOSUID = 2
MS_NODEV = 4
MS_BIND = 4096
MS_MOVE = 8192

_libc = None


def _mount(source, target, fstype, flags, data):
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6', use_errno=True)
    rc = _libc.mount(source, target, fstype, ctypes.c_ulong(flags), data)
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, 'mount %s on %s: %s' % (fstype or source, target, os.strerror(err)))


def private_tmpdir(state_dir):
    """TMPDIR inside the state directory, for this process and everything it starts."""
    d = os.path.join(state_dir, 'tmp')
    if not os.path.isdir(d):
        os.makedirs(d)
    os.environ['TMPDIR'] = d
    tempfile.tempdir = d
    return d


def make_private(state_dir):
    """Private /run (and /var/run) and /tmp for this mount namespace.  Returns what was mounted."""
    state_dir = os.path.realpath(state_dir)
    done = []
    _mount('xend-compat-run', '/run', 'tmpfs', MS_NOSUID | MS_NODEV, 'mode=0755')
    done.append('/run')
    if os.path.isdir('/var/run') and not os.path.islink('/var/run') and os.path.realpath('/var/run') != '/run':
        _mount('xend-compat-varrun', '/var/run', 'tmpfs', MS_NOSUID | MS_NODEV, 'mode=0755')
        done.append('/var/run')
    tmp = os.path.realpath('/tmp')
    if os.path.isdir(tmp):
        stage = os.path.join(state_dir, '.private-tmp')
        os.mkdir(stage, 0700)
        _mount('xend-compat-tmp', stage, 'tmpfs', MS_NOSUID | MS_NODEV, 'mode=1777')
        if state_dir.startswith(tmp + '/'):
            inner = os.path.join(stage, state_dir[len(tmp) + 1:])
            os.makedirs(inner)
            _mount(state_dir, inner, None, MS_BIND, None)
        _mount(stage, tmp, None, MS_MOVE, None)
        done.append(tmp)
    return done
