# -*- coding: utf-8 -*-
"""Fake hypervisor: stands in for the compiled module xen.lowlevel.xc.

Written for xend-compat (not derived from Xen's xc.c).  Keeps a table of domains
with the states xend reads through domain_getinfo, and records what the
hypervisor side would have applied: every domain_set_time_offset call (the
wall-clock offset of a domain) and every domain build.  Any call this module
does not model is recorded and returns 0.
"""
import threading
import time

import sandbox_state

SHUTDOWN_POWEROFF = 0
SHUTDOWN_REBOOT = 1
SHUTDOWN_SUSPEND = 2
SHUTDOWN_CRASH = 3

FLAG_HVM = 1  # XEN_DOMCTL_CDF_hvm_guest

# Scheduler ids of Xen's public interface.
XEN_SCHEDULER_SEDF = 4
XEN_SCHEDULER_CREDIT = 5
XEN_SCHEDULER_CREDIT2 = 6

DOM0_MEM_KB = 2 * 1024 * 1024
HOST_MEM_KB = 64 * 1024 * 1024


class Error(Exception):
    """xen.lowlevel.xc.Error: args are (errno, message)."""
    pass


_lock = threading.RLock()
_domains = {}
_next_domid = [1]
_evtchn = [10]


def _new_domain(domid, handle, hvm):
    return {
        'domid': domid, 'handle': list(handle), 'hvm': hvm,
        'online_vcpus': 1, 'max_vcpu_id': 0,
        'dying': 0, 'crashed': 0, 'shutdown': 0, 'paused': 1,
        'blocked': 0, 'running': 0,
        'mem_kb': 0, 'cpu_time': 0, 'maxmem_kb': 0, 'ssidref': 0,
        'shutdown_reason': 0, 'cpupool': 0,
    }


def _reset():
    with _lock:
        _domains.clear()
        d0 = _new_domain(0, [0] * 16, 0)
        d0.update({'paused': 0, 'running': 1, 'mem_kb': DOM0_MEM_KB,
                   'maxmem_kb': DOM0_MEM_KB, 'online_vcpus': 1})
        _domains[0] = d0
        _next_domid[0] = 1


_reset()


def handle_to_uuid(handle):
    h = ''.join(['%02x' % (b & 0xff) for b in handle])
    return '-'.join([h[0:8], h[8:12], h[12:16], h[16:20], h[20:32]])


def _dom(domid):
    d = _domains.get(int(domid))
    if d is None:
        raise Error(3, 'No such process')  # what libxc reports for ESRCH
    return d


def domain_uuid(domid):
    with _lock:
        d = _domains.get(int(domid))
        return d and handle_to_uuid(d['handle'])


def find_domid(uuid):
    with _lock:
        for domid, d in _domains.items():
            if domid != 0 and handle_to_uuid(d['handle']) == uuid and not d['dying']:
                return domid
    return None


def is_hvm(domid):
    with _lock:
        d = _domains.get(int(domid))
        return bool(d and d['hvm'])


def guest_shutdown(domid, reason):
    """The guest shuts itself down (e.g. poweroff): what the hypervisor then reports."""
    with _lock:
        d = _dom(domid)
        d['shutdown'] = 1
        d['shutdown_reason'] = reason
        d['running'] = 0
        d['blocked'] = 0
    sandbox_state.record('shutdown', uuid=domain_uuid(domid), domid=domid, reason=reason)
    # xenstored fires @releaseDomain when a domain shuts down or dies (VIRQ_DOM_EXC).
    sandbox_state.fire_release_domain()


class PhysInfo(dict):
    """physinfo(): a field the fake does not make is named in the error."""

    def __missing__(self, key):
        raise KeyError("%s (physinfo field not made by the xend-compat fake hypervisor for this tree; "
                       "it gives: %s)" % (key, ', '.join(sorted(self.keys()))))


class xc(object):
    """The hypervisor handle xend creates with xen.lowlevel.xc.xc()."""

    def __init__(self, *args, **kwargs):
        pass

    # --- generic fallback: any other call is recorded and returns 0
    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)

        def recorder(*args, **kwargs):
            sandbox_state.record('xc.' + name, args=_plain(args), kwargs=_plain(kwargs))
            return 0
        return recorder

    # --- host information
    def xeninfo(self):
        major, minor = [int(x) for x in sandbox_state.FAMILY.split('.')[:2]]
        return {
            'xen_major': major, 'xen_minor': minor, 'xen_extra': '.sandbox',
            'xen_caps': 'xen-3.0-x86_64 xen-3.0-x86_32p hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64',
            'xen_pagesize': 4096, 'platform_params': 'virt_start=0xffff800000000000',
            'xen_changeset': 'xend-compat sandbox (no hypervisor)',
            'xen_commandline': '', 'cc_compiler': 'none', 'cc_compile_by': 'xend-compat',
            'cc_compile_domain': 'sandbox', 'cc_compile_date': 'n/a',
        }

    def physinfo(self):
        with _lock:
            used = sum([d['maxmem_kb'] for d in _domains.values()])
        every = {
            'nr_nodes': 1, 'threads_per_core': 1, 'cores_per_socket': 2, 'nr_cpus': 2,
            'total_memory': HOST_MEM_KB, 'free_memory': max(HOST_MEM_KB - used, 0),
            'scrub_memory': 0, 'cpu_khz': 2000000,
            'hw_caps': '00000000:00000000:00000000:00000000:00000000:00000000:00000000:00000000',
            'virt_caps': 'hvm',
            'max_cpu_id': 1, 'sockets_per_node': 1, 'node_to_cpu': [[0, 1]],
            'node_to_memory': [HOST_MEM_KB], 'max_node_id': 0, 'node_to_dma32_mem': [0],
        }
        # Only the fields this tree's xend names (tree_needs.scan): what its own binding returned.
        return PhysInfo([(k, every[k]) for k in sandbox_state.NEEDS['physinfo']])

    def topologyinfo(self):
        return {'max_cpu_index': 1, 'cpu_to_core': [0, 1], 'cpu_to_socket': [0, 0],
                'cpu_to_node': [0, 0]}

    def numainfo(self):
        return {'max_node_index': 0, 'node_memsize': [HOST_MEM_KB / 1024],
                'node_memfree': [HOST_MEM_KB / 1024], 'node_to_dma32_mem': [0],
                'node_to_node_dist': [[10]]}

    def sched_id_get(self):
        return 5  # XEN_SCHEDULER_CREDIT

    def sched_credit_domain_get(self, domid):
        _dom(domid)
        return {'weight': 256, 'cap': 0}

    def sched_credit2_domain_get(self, domid):
        _dom(domid)
        return {'weight': 256}

    def sched_credit_domain_set(self, domid, weight=None, cap=None):
        return 0

    def cpupool_getinfo(self):
        with _lock:
            n = len(_domains)
        return [{'cpupool': 0, 'sched': 5, 'n_dom': n, 'cpulist': [0, 1]}]

    def cpupool_freeinfo(self):
        return []

    def vcpu_getinfo(self, domid, vcpu=0):
        d = _dom(domid)
        return {'online': 1, 'blocked': d['blocked'], 'running': d['running'],
                'cpu_time': 0, 'cpu': 0, 'cpumap': [0, 1]}

    def readconsolering(self, clear=0, incremental=0):
        return ''

    def getBitSize(self, image=None, cmdline='', features=''):
        return {'type': 64}

    def hvm_get_param(self, domid, param):
        return 0

    def hvm_set_param(self, domid, param, value):
        sandbox_state.record('xc.hvm_set_param', domid=domid, param=param, value=_plain(value))
        return 0

    def evtchn_alloc_unbound(self, domid=0, remote_dom=0):
        with _lock:
            _evtchn[0] += 1
            return _evtchn[0]

    def shadow_mem_control(self, dom, mb=None):
        return mb or 0

    # --- domains
    def domain_getinfo(self, first_dom=0, max_doms=1024):
        with _lock:
            out = []
            for domid in sorted(_domains.keys()):
                if domid < first_dom:
                    continue
                if len(out) >= max_doms:
                    break
                d = dict(_domains[domid])
                d['handle'] = list(d['handle'])
                if not sandbox_state.NEEDS['cpupool']:
                    del d['cpupool']
                if sandbox_state.NEEDS.get('getinfoDom'):
                    # 3.0's binding called the domain id 'dom' and the vcpu count 'vcpus'.
                    d['dom'] = d.pop('domid')
                    d['vcpus'] = d['online_vcpus']
                out.append(d)
            return out

    def domain_create(self, domid=0, ssidref=0, handle=None, flags=0, target=0, hvm=0):
        # 4.x/3.4 pass flags (bit 0 = HVM), 3.2 passes hvm=0/1.
        if hvm:
            flags |= FLAG_HVM
        if handle is None:
            handle = [0] * 16
        with _lock:
            newid = _next_domid[0]
            _next_domid[0] += 1
            _domains[newid] = _new_domain(newid, handle, 1 if (flags & FLAG_HVM) else 0)
            _domains[newid]['ssidref'] = ssidref
        sandbox_state.record('xc.domain_create', domid=newid, uuid=handle_to_uuid(handle),
                             flags=flags)
        return newid

    def domain_max_vcpus(self, domid, max):
        with _lock:
            d = _dom(domid)
            d['online_vcpus'] = int(max)
            d['max_vcpu_id'] = int(max) - 1
        return 0

    def domain_setmaxmem(self, domid, maxmem_kb):
        with _lock:
            d = _dom(domid)
            d['maxmem_kb'] = int(maxmem_kb)
            if not d['mem_kb']:
                d['mem_kb'] = int(maxmem_kb)
        return 0

    def domain_set_target_mem(self, domid, mem_kb):
        with _lock:
            _dom(domid)['mem_kb'] = int(mem_kb)
        return 0

    def domain_set_memmap_limit(self, domid, map_limitkb):
        return 0

    def domain_pause(self, domid):
        with _lock:
            d = _dom(domid)
            d['paused'] = 1
            d['running'] = 0
        sandbox_state.record('xc.domain_pause', domid=domid, uuid=domain_uuid(domid))
        return 0

    def domain_unpause(self, domid):
        with _lock:
            d = _dom(domid)
            d['paused'] = 0
            if not d['shutdown']:
                d['running'] = 1
        sandbox_state.record('xc.domain_unpause', domid=domid, uuid=domain_uuid(domid))
        return 0

    def domain_resume(self, domid, fast=0):
        with _lock:
            d = _dom(domid)
            d['shutdown'] = 0
        return 0

    def domain_shutdown(self, domid, reason):
        guest_shutdown(domid, int(reason))
        return 0

    def domain_destroy(self, domid):
        uuid = domain_uuid(domid)
        with _lock:
            _dom(domid)
            del _domains[int(domid)]
        sandbox_state.record('xc.domain_destroy', domid=domid, uuid=uuid)
        sandbox_state.fire_release_domain()
        return 0

    def domain_destroy_hook(self, domid):
        return 0

    def domain_set_time_offset(self, domid, *args):
        # 3.2.0-rc6 passes no offset (the C binding then uses the host's own offset).
        offset = None
        if args:
            offset = int(args[0])
        uuid = domain_uuid(domid)
        sandbox_state.record('xc.domain_set_time_offset', domid=domid, uuid=uuid, offset=offset)
        sandbox_state.add_time_offset(uuid, offset)
        return 0

    def pages_to_kib(self, pages):
        return int(pages) * 4   # 3.0: 4 KiB pages

    def linux_build(self, **kwargs):
        domid = kwargs.get('domid', kwargs.get('dom'))  # 3.0 says dom=
        sandbox_state.record('xc.linux_build', domid=domid, uuid=domain_uuid(domid),
                             kwargs=_plain(kwargs))
        return {'store_mfn': 0x1000 + int(domid), 'console_mfn': 0x2000 + int(domid), 'notes': {}}

    def hvm_build(self, **kwargs):
        domid = kwargs.get('domid', kwargs.get('dom'))
        sandbox_state.record('xc.hvm_build', domid=domid, uuid=domain_uuid(domid),
                             kwargs=_plain(kwargs))
        if 'store_evtchn' in kwargs:
            # The binding of trees that pass the store event channel to hvm_build (3.1) set up the
            # store page itself and returned its frame; later trees ask hvm_get_param for it.
            return {'store_mfn': 0x1000 + int(domid)}
        return {}

    def vmx_build(self, **kwargs):
        # 3.0's name for hvm_build.
        domid = kwargs.get('dom')
        sandbox_state.record('xc.vmx_build', domid=domid, uuid=domain_uuid(domid), kwargs=_plain(kwargs))
        return {}


def _plain(v):
    """Make a value JSON-friendly for the call log."""
    if isinstance(v, dict):
        return dict([(str(k), _plain(x)) for k, x in v.items()])
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, (int, long, float, bool)) or v is None:
        return v
    return str(v)
