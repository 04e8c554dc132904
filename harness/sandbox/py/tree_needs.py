# -*- coding: utf-8 -*-
"""What a Xen tree's xend needs from the fakes, learnt from the tree's own sources
(written for xend-compat; nothing of Xen is copied).

The sandbox does not keep a list of Xen releases.  It reads the tree:

* which compiled modules under xen.lowlevel.* its xend, web and util packages
  import (each needs a fake; one the sandbox has none for is an error naming the
  file and line that imports it);
* which fields of the hypervisor's physinfo() the tree names (a field is given
  to the tree only when the tree's xend names it, so a dict-walking tree sees
  what its own hypervisor binding would return; a field the tree reads that the
  fake hypervisor cannot make is an error naming file and line);
* whether domain_getinfo() entries carry a cpupool (trees with cpupools);
* which optional xend modules exist (osdep, XendOptions or XendRoot, ...).
"""
import os
import re

# The fake lowlevel modules the sandbox has (see sandbox_main.py).
FAKED_LOWLEVEL = ('xc', 'xs', 'acm', 'flask', 'scf', 'process', 'checkpoint', 'netlink', 'ptsname')

# physinfo fields the fake hypervisor can make (fake_xc.physinfo), always given:
PHYSINFO_CORE = ('nr_nodes', 'threads_per_core', 'cores_per_socket', 'nr_cpus', 'total_memory',
                 'free_memory', 'scrub_memory', 'cpu_khz', 'hw_caps')
# ... and given only when the tree names them:
PHYSINFO_OPTIONAL = ('virt_caps', 'max_cpu_id', 'sockets_per_node', 'node_to_cpu', 'node_to_memory',
                     'max_node_id', 'node_to_dma32_mem')
# Fields some trees compute themselves from physinfo (never read from the hypervisor).
PHYSINFO_DERIVED = ('cpu_mhz', 'xen_scheduler', 'cpu_topology', 'numa_info', 'free_cpus')

_LOWLEVEL_RE = re.compile(r'xen\.lowlevel\.([A-Za-z_]\w*)|from\s+xen\.lowlevel\s+import\s+([\w ,]+)')
_PHYS_READ_RE = re.compile(r'\b(?:physinfo|phys_info|pinfo)(?:\(\))?\[\s*[\'"](\w+)[\'"]\s*\]')

SCAN_PACKAGES = ('xend', 'web', 'util')


def _py_files(tree, packages):
    for pkg in packages:
        base = os.path.join(tree, 'xen', pkg)
        for dp, dns, fns in os.walk(base):
            dns[:] = sorted([d for d in dns if d != 'tests'])
            for fn in sorted(fns):
                if fn.endswith('.py'):
                    yield os.path.join(dp, fn)


def _rel(tree, path):
    return os.path.relpath(path, os.path.join(tree, 'xen'))


def scan(tree):
    """The needs of the tools/python tree at `tree` (the directory holding xen/)."""
    lowlevel = {}        # name -> first 'file:line'
    named = set()        # every quoted word in xen/xend
    phys_reads = {}      # field -> first 'file:line' of a physinfo[...] read
    cpupool = False
    getinfo_dom = False
    for path in _py_files(tree, SCAN_PACKAGES):
        f = open(path)
        try:
            lines = f.read().split('\n')
        finally:
            f.close()
        in_xend = os.sep + 'xend' + os.sep in path
        for i, line in enumerate(lines):
            code = line.split('#', 1)[0]
            for m in _LOWLEVEL_RE.finditer(code):
                names = [m.group(1)] if m.group(1) else [n.strip() for n in m.group(2).split(',')]
                for n in names:
                    if n and n not in lowlevel:
                        lowlevel[n] = '%s:%d' % (_rel(tree, path), i + 1)
            if not in_xend:
                continue
            for w in re.findall(r'[\'"](\w+)[\'"]', code):
                named.add(w)
            for m in _PHYS_READ_RE.finditer(code):
                phys_reads.setdefault(m.group(1), '%s:%d' % (_rel(tree, path), i + 1))
            if os.path.basename(path) == 'XendDomainInfo.py' and re.search(r'[\'"]cpupool[\'"]', code):
                cpupool = True
            if os.path.basename(path) == 'XendDomain.py' and re.search(r'\bd\[[\'"]dom[\'"]\]', code):
                getinfo_dom = True
    known_phys = set(PHYSINFO_CORE + PHYSINFO_OPTIONAL + PHYSINFO_DERIVED)
    missing = []
    for n in sorted(lowlevel):
        if n not in FAKED_LOWLEVEL:
            missing.append('the tree imports xen.lowlevel.%s (%s), which the sandbox has no fake for'
                           % (n, lowlevel[n]))
    for k in sorted(phys_reads):
        if k not in known_phys:
            missing.append("the tree reads physinfo field '%s' (%s), which the fake hypervisor does not make"
                           % (k, phys_reads[k]))
    xend = os.path.join(tree, 'xen', 'xend')
    return {
        'lowlevel': sorted(lowlevel.keys()),
        'lowlevelWhere': lowlevel,
        'physinfo': list(PHYSINFO_CORE) + [k for k in PHYSINFO_OPTIONAL if k in named],
        'cpupool': cpupool,
        'getinfoDom': getinfo_dom,
        'osdep': os.path.isfile(os.path.join(xend, 'osdep.py')),
        'options': 'XendOptions' if os.path.isfile(os.path.join(xend, 'XendOptions.py')) else 'XendRoot',
        'managed': os.path.isfile(os.path.join(xend, 'XendConfig.py')),
        'missing': missing,
    }


def describe(needs):
    """One line for the provenance notes."""
    return ('learnt from the tree: lowlevel modules %s; physinfo fields %s; domain_getinfo %s cpupool, '
            'id key %s; config module %s' % (','.join(needs['lowlevel']) or 'none', ','.join(needs['physinfo']),
                                             'with' if needs['cpupool'] else 'without',
                                             'dom' if needs['getinfoDom'] else 'domid', needs['options']))
