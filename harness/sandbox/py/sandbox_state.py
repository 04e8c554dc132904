# -*- coding: utf-8 -*-
"""Shared state of the sandbox fakes: what the fake hypervisor and device-model
recorder saw, per domain uuid, for the control channel to report.
Written for xend-compat."""
import threading
import time

FAMILY = '4.1'          # the Xen series 'M.m' (xeninfo's xen_major/xen_minor), set by sandbox_main
NEEDS = None            # tree_needs.scan() of the tree, set by sandbox_main before xend is imported

_lock = threading.Lock()
_log = []               # bounded call log: (seq, time, kind, details)
_seq = [0]
_time_offsets = {}      # uuid -> [offset or None, ...]
_dm_args = {}           # uuid -> [[arg, ...], ...] (one list per device-model start)
_release_hooks = []


def record(kind, **details):
    with _lock:
        _seq[0] += 1
        _log.append({'seq': _seq[0], 'time': time.time(), 'kind': kind, 'details': details})
        if len(_log) > 5000:
            del _log[:1000]


def calls(since=0, kind=None):
    with _lock:
        return [e for e in _log if e['seq'] > since and (kind is None or e['kind'] == kind)]


def add_time_offset(uuid, offset):
    with _lock:
        _time_offsets.setdefault(uuid, []).append(offset)


def time_offsets(uuid):
    with _lock:
        return list(_time_offsets.get(uuid, []))


def add_dm_args(uuid, args):
    with _lock:
        _dm_args.setdefault(uuid, []).append(list(args))


def dm_args(uuid):
    with _lock:
        return [list(a) for a in _dm_args.get(uuid, [])]


def on_release_domain(fn):
    _release_hooks.append(fn)


def fire_release_domain():
    for fn in _release_hooks:
        fn()
