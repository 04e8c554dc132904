# -*- coding: utf-8 -*-
"""In-memory xenstore: stands in for the compiled module xen.lowlevel.xs.

Written for xend-compat from xenstored's documented behaviour (not from its code):
* paths are absolute ('/a/b') or relative to dom0's home (/local/domain/0);
* write creates missing parents, a new node inherits its parent's permissions;
* a watch fires once when it is registered, then for every change at or below its
  path (reporting the changed path); removing a node also fires the watches set
  on its descendants (reporting the watch's own path); '@...' watches match
  exactly (@releaseDomain, @introduceDomain);
* transactions: changes apply at once (no isolation), their watch events are held
  until commit, and abort undoes the changes.
Every handle has its own event queue, read by read_watch (blocking).
"""
import errno
import os
import threading

import sandbox_state


class Error(RuntimeError):
    pass


def _error(code):
    return Error(code, os.strerror(code))


DOM0_HOME = '/local/domain/0'


class _Store(object):
    def __init__(self):
        self.lock = threading.RLock()
        self.nodes = {}          # path -> [value, perms]; perms = [(domid, 'r'|'w'|'b'|'n'), ...]
        self.handles = []
        self.tx = {}             # txid -> {'undo': [...], 'events': [...]}
        self.next_tx = 1
        for p in ('/', '/tool', '/tool/xenstored', '/local', '/local/domain', DOM0_HOME):
            self.nodes[p] = ['', [(0, 'n')]]

    # --- helpers
    def norm(self, path):
        if not isinstance(path, str) or path == '':
            raise _error(errno.EINVAL)
        if path.startswith('@'):
            return path
        if not path.startswith('/'):
            path = DOM0_HOME + '/' + path
        if len(path) > 1 and path.endswith('/'):
            path = path.rstrip('/')
        if '//' in path:
            raise _error(errno.EINVAL)
        return path

    @staticmethod
    def parent(path):
        if path == '/':
            return None
        p = path.rsplit('/', 1)[0]
        return p or '/'

    def children(self, path):
        prefix = path.rstrip('/') + '/'
        out = []
        for p in self.nodes:
            if p != path and p.startswith(prefix) and '/' not in p[len(prefix):]:
                out.append(p[len(prefix):])
        return sorted(out)

    def subtree(self, path):
        prefix = path.rstrip('/') + '/'
        return [p for p in self.nodes if p == path or p.startswith(prefix)]

    def _undo(self, txid, path):
        if txid:
            t = self.tx.get(txid)
            if t is None:
                raise _error(errno.ENOENT)
            old = self.nodes.get(path)
            t['undo'].append((path, None if old is None else [old[0], list(old[1])]))

    def _event(self, txid, path, removed=False):
        if txid:
            self.tx[txid]['events'].append((path, removed))
        else:
            self.fire(path, removed)

    # --- watch delivery
    def fire(self, path, removed=False):
        with self.lock:
            for h in self.handles:
                h._fire(path, removed)

    # --- operations
    def read(self, txid, path):
        with self.lock:
            path = self.norm(path)
            n = self.nodes.get(path)
            return None if n is None else n[0]

    def write(self, txid, path, value):
        with self.lock:
            path = self.norm(path)
            self._mknode(txid, path, value, set_value=True)
            self._event(txid, path)

    def mkdir(self, txid, path):
        with self.lock:
            path = self.norm(path)
            if path in self.nodes:
                return
            self._mknode(txid, path, '', set_value=True)
            self._event(txid, path)

    def _mknode(self, txid, path, value, set_value):
        missing = []
        p = path
        while p is not None and p not in self.nodes:
            missing.append(p)
            p = self.parent(p)
        perms = list(self.nodes[p][1]) if p is not None else [(0, 'n')]
        for q in reversed(missing):
            self._undo(txid, q)
            self.nodes[q] = ['', list(perms)]
        if set_value:
            if path not in missing:
                self._undo(txid, path)
            self.nodes[path][0] = value

    def rm(self, txid, path):
        with self.lock:
            path = self.norm(path)
            if path not in self.nodes:
                return
            if path == '/':
                raise _error(errno.EINVAL)
            for p in sorted(self.subtree(path), reverse=True):
                self._undo(txid, p)
                del self.nodes[p]
            self._event(txid, path, removed=True)

    def ls(self, txid, path):
        with self.lock:
            path = self.norm(path)
            if path not in self.nodes:
                return None
            return self.children(path)

    def get_permissions(self, txid, path):
        with self.lock:
            path = self.norm(path)
            n = self.nodes.get(path)
            if n is None:
                raise _error(errno.ENOENT)
            out = []
            for dom, p in n[1]:
                out.append({'dom': dom, 'read': int(p in ('r', 'b')), 'write': int(p in ('w', 'b'))})
            return out

    def set_permissions(self, txid, path, perms):
        with self.lock:
            path = self.norm(path)
            n = self.nodes.get(path)
            if n is None:
                raise _error(errno.ENOENT)
            if not isinstance(perms, list):
                raise _error(errno.EINVAL)
            conv = []
            for p in perms:
                dom = int(p.get('dom', 0))
                r = bool(p.get('read', 0))
                w = bool(p.get('write', 0))
                conv.append((dom, r and w and 'b' or r and 'r' or w and 'w' or 'n'))
            # like the C binding: restricting the first domain makes dom0 the owner
            if conv and conv[0][1] != 'n' and conv[0][0] != 0:
                conv.insert(0, (0, 'n'))
            self._undo(txid, path)
            n[1] = conv
            self._event(txid, path)

    def transaction_start(self):
        with self.lock:
            txid = '%X' % self.next_tx
            self.next_tx += 1
            self.tx[txid] = {'undo': [], 'events': []}
            return txid

    def transaction_end(self, txid, abort):
        with self.lock:
            t = self.tx.pop(txid, None)
            if t is None:
                raise _error(errno.ENOENT)
            if abort:
                for path, old in reversed(t['undo']):
                    if old is None:
                        self.nodes.pop(path, None)
                    else:
                        self.nodes[path] = old
                return True
            for path, removed in t['events']:
                self.fire(path, removed)
            return True


_store = _Store()
sandbox_state.on_release_domain(lambda: _store.fire('@releaseDomain'))


def store():
    return _store


def _tx(t):
    if t in (None, '', '0'):
        return None
    return t


def _match(wpath, path):
    if wpath.startswith('@') or path.startswith('@'):
        return wpath == path
    return path == wpath or wpath == '/' or path.startswith(wpath + '/')


class xs(object):
    """A connection to the fake xenstored (xen.lowlevel.xs.xs())."""

    def __init__(self, *args, **kwargs):
        self._cond = threading.Condition(threading.Lock())
        self._events = []
        self._watches = []       # [(path, token)]
        self._reader_waiting = False
        self._reader_seen = False
        with _store.lock:
            _store.handles.append(self)

    # --- event queue
    def _fire(self, path, removed):
        hits = []
        for wpath, token in list(self._watches):
            if _match(wpath, path):
                hits.append((path, token))
            elif removed and not wpath.startswith('@') and wpath.startswith(path.rstrip('/') + '/'):
                hits.append((wpath, token))
        if hits:
            with self._cond:
                self._events.extend(hits)
                self._cond.notify_all()

    def read_watch(self):
        with self._cond:
            self._reader_seen = True
            self._reader_waiting = True
            self._cond.notify_all()
            while not self._events:
                self._cond.wait()
            ev = self._events.pop(0)
            self._reader_waiting = False
            return ev

    def wait_idle(self, timeout):
        """True once every queued event has been handled by the reader (it is back in
        read_watch with an empty queue), False on timeout."""
        import time
        deadline = time.time() + timeout
        with self._cond:
            while True:
                if not self._events and (self._reader_waiting or not self._reader_seen):
                    return True
                left = deadline - time.time()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))

    def watch(self, path, token):
        path = _store.norm(path)
        with self._cond:
            self._watches.append((path, token))
            self._events.append((path, token))
            self._cond.notify_all()
        return None

    def unwatch(self, path, token):
        path = _store.norm(path)
        with self._cond:
            for i, (p, t) in enumerate(self._watches):
                if p == path and t is token:
                    del self._watches[i]
                    self._events = [e for e in self._events if e[1] is not token]
                    return None
        raise _error(errno.ENOENT)

    # --- data
    def read(self, t, path):
        return _store.read(_tx(t), path)

    def write(self, t, path, value):
        if not isinstance(value, str):
            raise TypeError('write() argument 3 must be string')
        return _store.write(_tx(t), path, value)

    def mkdir(self, t, path):
        return _store.mkdir(_tx(t), path)

    def rm(self, t, path):
        return _store.rm(_tx(t), path)

    def ls(self, t, path):
        return _store.ls(_tx(t), path)

    def get_permissions(self, t, path):
        return _store.get_permissions(_tx(t), path)

    def set_permissions(self, t, path, perms):
        return _store.set_permissions(_tx(t), path, perms)

    def transaction_start(self):
        return _store.transaction_start()

    def transaction_end(self, transaction, abort=0):
        return _store.transaction_end(transaction, bool(abort))

    # --- domains
    def get_domain_path(self, domid):
        return '/local/domain/%d' % int(domid)

    def introduce_domain(self, domid, page, port):
        sandbox_state.record('xs.introduce_domain', domid=domid, page=page, port=port)
        _store.fire('@introduceDomain')
        return None

    def release_domain(self, domid):
        sandbox_state.record('xs.release_domain', domid=domid)
        _store.fire('@releaseDomain')
        return None

    def resume_domain(self, domid):
        return None

    def set_target(self, domid, target):
        return None

    def close(self):
        return None
