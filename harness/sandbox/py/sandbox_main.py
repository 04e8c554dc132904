# -*- coding: utf-8 -*-
"""xend-compat sandbox: run the real xend of a Xen source tree (tools/python) under
Python 2.7 with this project's fake hypervisor (fake_xc), in-memory xenstore
(fake_xs), recorder modules and generated build modules.

Usage (normally started by harness/sandbox/index.ts):
  python2.7 sandbox_main.py --tree DIR --state-dir DIR [--family M.m]
      [--listen tcp|unix] [--host 127.0.0.1] [--port 0] [--control-port 0]
      [--placeholders namespace|direct|none] [--placeholder PATH ...]

Prints one line `XEND-COMPAT-READY {json}` on stdout once xend's HTTP server and the
control channel listen, or `XEND-COMPAT-FAILED {json}` and exits 1.
Written for xend-compat; the Xen tree's own code is imported, never copied.
"""
import argparse
import json
import os
import re
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))


def family_of(tree):
    """The Xen series (e.g. '4.1') a tree most likely holds, from what it contains; only a
    fallback when the launcher does not say it (the xend version label names the series)."""
    low = os.path.join(tree, 'xen', 'lowlevel')
    if os.path.isdir(os.path.join(low, 'xl')):
        return '4.1'
    if os.path.isdir(os.path.join(low, 'checkpoint')):
        return '4.0'
    if os.path.isdir(os.path.join(low, 'process')):
        return '3.4'
    if os.path.isdir(os.path.join(low, 'flask')):
        return '3.2'
    if os.path.isdir(os.path.join(low, 'acm')):
        return '3.1'
    return '3.0'


def find_python_dir(path):
    for cand in (os.path.join(path, 'tools', 'python'), path):
        if os.path.isfile(os.path.join(cand, 'xen', 'xend', 'XendDomain.py')):
            return os.path.abspath(cand)
    return None


def emit(tag, obj):
    sys.stdout.write('%s %s\n' % (tag, json.dumps(obj)))
    sys.stdout.flush()


def write_config(a, cfg_path):
    sd = a.state_dir
    lines = [
        '(xend-http-server %s)' % ('yes' if a.listen == 'tcp' else 'no'),
        '(xend-unix-server %s)' % ('yes' if a.listen == 'unix' else 'no'),
        '(xend-unix-path %s)' % os.path.join(sd, 'xend-socket'),
        '(xend-address %s)' % a.host,
        '(xend-port %d)' % a.port,
        '(xend-tcp-xmlrpc-server no)',
        '(xend-unix-xmlrpc-server no)',
        '(xend-relocation-server no)',
        '(xend-relocation-ssl-server no)',
        '(xend-udev-event-server no)',
        '(xen-api-server ())',
        '(xend-domains-path %s)' % os.path.join(sd, 'domains'),
        '(xend-state-path %s)' % os.path.join(sd, 'state'),
        '(xend-storage-path %s)' % os.path.join(sd, 'storage'),
        '(xend-security-path %s)' % os.path.join(sd, 'security'),
        '(logfile %s)' % os.path.join(sd, 'xend.log'),
        '(loglevel DEBUG)',
        '(dom0-min-mem 0)',
        '(enable-dom0-ballooning no)',
        '(dom0-cpus 0)',
        '(vnc-listen 127.0.0.1)',
        # As every shipped tools/examples/xend-config.sxp (3.1 to 4.4) sets it; 3.1 refuses to start an
        # HVM guest with VNC when no vncpasswd is configured anywhere.
        "(vncpasswd '')",
    ]
    f = open(cfg_path, 'w')
    f.write('\n'.join(lines) + '\n')
    f.close()


def main(argv):
    p = argparse.ArgumentParser()
    p.add_argument('--tree', required=True)
    p.add_argument('--state-dir', required=True)
    p.add_argument('--family', help="the Xen series the tree holds, 'M.m' (xeninfo's xen_major/minor)")
    p.add_argument('--listen', choices=['tcp', 'unix'], default='tcp')
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--port', type=int, default=0)
    p.add_argument('--control-port', type=int, default=0)
    p.add_argument('--placeholders', choices=['namespace', 'direct', 'none'], default='none')
    p.add_argument('--placeholder', action='append', default=[])
    p.add_argument('--foreground', action='store_true',
                   help='run until SIGTERM/SIGINT instead of until stdin closes (containers)')
    a = p.parse_args(argv)

    import placeholders as ph_mod
    refusal = ph_mod.mode_refusal(a.placeholders)
    if refusal:
        emit('XEND-COMPAT-FAILED', {'error': refusal})
        return 1

    tree = find_python_dir(a.tree)
    if tree is None:
        emit('XEND-COMPAT-FAILED', {'error': 'no xen/xend/XendDomain.py under %s or %s/tools/python'
                                    % (a.tree, a.tree)})
        return 1
    a.state_dir = os.path.realpath(a.state_dir)
    for d in ('domains', 'state', 'storage', 'security', 'etc/xen/scripts', 'lock'):
        path = os.path.join(a.state_dir, d)
        if not os.path.isdir(path):
            os.makedirs(path)

    family = a.family or family_of(tree)
    if not re.match(r'^\d+\.\d+$', family):
        emit('XEND-COMPAT-FAILED', {'error': "bad --family '%s': expected the Xen series as M.m" % family})
        return 1
    import tree_needs
    needs = tree_needs.scan(tree)
    if needs['missing']:
        emit('XEND-COMPAT-FAILED', {'error': 'the sandbox cannot run the xend of %s: %s'
                                    % (tree, '; '.join(needs['missing']))})
        return 1
    # The sandbox owns nothing of the host: /run (/var/run), /tmp private before any mount or
    # import of xend; temporary files in the state directory in every mode (private_fs.py).
    import private_fs
    private_mounts = []
    if a.placeholders == 'namespace':
        private_mounts = private_fs.make_private(a.state_dir)
    elif a.placeholders == 'none' and os.geteuid() == 0:
        emit('XEND-COMPAT-FAILED', {'error': "as root without a private mount namespace xend would write the "
                                    "host's /run, /var/run and /tmp (boot loader and qemu fifos, device model "
                                    "sentinels): start the sandbox through `unshare --mount --propagation private` "
                                    "(util-linux's unshare; the harness does when it finds it), or as a user "
                                    "who cannot write them"})
        return 1
    private_fs.private_tmpdir(a.state_dir)
    tz = os.environ.get('TZ', '')
    time.tzset()

    cfg = os.path.join(a.state_dir, 'xend-config.sxp')
    write_config(a, cfg)
    os.environ['XEND_CONFIG'] = cfg
    # What xend's own code derives from argv[0] (3.x auxbin: <prefix>/lib64/xen/bin).
    sys.argv = ['/usr/sbin/xend', 'start']

    import sandbox_state
    sandbox_state.FAMILY = family
    sandbox_state.NEEDS = needs
    import fake_xc
    import fake_xs
    import recorders
    import generated
    import placeholders as ph_mod

    ph = ph_mod.Placeholders(a.placeholders, a.state_dir)
    # Every tree xend writes into is overlaid from the start (writes land in the sandbox's tmpfs).
    for top in ph_mod.WRITTEN_TOPS:
        ph.overlay_top(top)
    for path in list(ph_mod.DEFAULT_PATHS) + a.placeholder:
        ph.provide(path)

    sys.path.insert(0, tree)
    gen = generated.GeneratedModules(a.state_dir, family)
    sys.meta_path.insert(0, gen)

    # The fakes must be in sys.modules before the first xend import.
    import xen.lowlevel
    fakes = {'xc': fake_xc, 'xs': fake_xs}
    for name in ('flask', 'scf', 'process', 'checkpoint', 'netlink'):
        fakes[name] = recorders.RecorderModule('xen.lowlevel.' + name)
    fakes['acm'] = recorders.AcmModule('xen.lowlevel.acm')
    fakes['ptsname'] = recorders.PtsnameModule('xen.lowlevel.ptsname')
    for name, mod in fakes.items():
        sys.modules['xen.lowlevel.' + name] = mod
        setattr(xen.lowlevel, name, mod)

    import hotplug
    hotplug.start()

    # Import as the daemon does, then its HTTP stack.
    from xen.xend.server import SrvDaemon
    from xen.xend.server import SrvServer
    from xen.xend import XendLogging, image, XendDomain, XendNode, sxp
    XendLogging.init(os.path.join(a.state_dir, 'xend.log'), 'DEBUG')

    # No host PCI devices: the machine xend thinks it runs on has none to pass through, and
    # the real host's sysfs (unreadable config space in a container) must not leak in.
    try:
        from xen.util import pci as xen_pci
    except ImportError:
        xen_pci = None   # trees before 3.1 have no xen.util.pci
    for fn in ('get_all_pci_names', 'get_all_pci_dict', 'get_all_pci_devices'):
        if hasattr(xen_pci, fn):
            setattr(xen_pci, fn, lambda *a, **k: [])

    # Start path only: dom0 balloon statistics and the device model.
    def balloon_stat(label):
        return 2 * 1024 * 1024  # KiB, any label
    if needs['osdep']:
        from xen.xend import osdep
        osdep.lookup_balloon_stat = balloon_stat
    else:
        # Trees before osdep.py read /proc/xen/balloon in balloon.py themselves.
        from xen.xend import balloon
        if hasattr(balloon, '_get_proc_balloon'):
            balloon._get_proc_balloon = balloon_stat

    def createDeviceModel(self, restore=False):
        if getattr(self, 'device_model', None) is None:
            return
        if getattr(self, 'pid', None):
            return
        if hasattr(self, 'getDeviceModelArgs'):
            args = self.getDeviceModelArgs(restore)
        else:
            # 3.0 and 3.1 keep the parsed device-model arguments from configure() in self.dmargs.
            args = list(getattr(self, 'dmargs', None) or [])
        if not hasattr(self, 'sentinel_lock'):
            self.sentinel_lock = threading.Lock()   # what 4.x destroyDeviceModel expects
        uuid = self.vm.info['uuid']
        sandbox_state.add_dm_args(uuid, [str(x) for x in args])
        sandbox_state.record('createDeviceModel', uuid=uuid, device_model=self.device_model,
                             args=[str(x) for x in args])
    # Every handler class that defines its own createDeviceModel (3.0 and 3.1 define it in the HVM
    # class, later trees only in ImageHandler): none may spawn anything.
    for cls in vars(image).values():
        if isinstance(cls, type) or type(cls).__name__ == 'classobj':
            if 'createDeviceModel' in vars(cls):
                cls.createDeviceModel = createDeviceModel

    # Placeholders for the paths a posted config names, before xend parses it.
    from xen.xend.server import SrvDomainDir

    def with_placeholders(orig):
        def op(self, op_, req):
            try:
                cfg = req.args.get('config')
                if cfg:
                    pin = sxp.Parser()
                    pin.input(cfg[0])
                    pin.input_eof()
                    ph.provide_for_config(pin.get_val())
            except sxp.ParseError:
                pass   # xend reports the parse error itself
            except Exception, e:
                # anything else is ours
                sandbox_state.record('placeholder.scan-failed', error=str(e))
                sys.stderr.write('xend-compat: placeholder scan failed: %s\n' % traceback.format_exc())
            return orig(self, op_, req)
        return op
    for opname in ('op_new', 'op_create'):
        if hasattr(SrvDomainDir.SrvDomainDir, opname):
            setattr(SrvDomainDir.SrvDomainDir, opname,
                    with_placeholders(getattr(SrvDomainDir.SrvDomainDir, opname)))

    xc = fake_xc.xc()
    XendDomain.instance()
    XendNode.instance()
    servers = SrvServer.create()
    threads = []
    for server in servers.servers:
        t = threading.Thread(target=server.run, name=server.__class__.__name__)
        t.setDaemon(True)
        t.start()
        threads.append(t)
    deadline = time.time() + 30
    while not all([s.ready for s in servers.servers]):
        if time.time() > deadline:
            emit('XEND-COMPAT-FAILED', {'error': 'xend HTTP server did not become ready'})
            return 1
        time.sleep(0.02)
    if not servers.servers:
        emit('XEND-COMPAT-FAILED', {'error': 'xend created no HTTP server'})
        return 1
    srv = servers.servers[0]
    if a.listen == 'unix':
        xend_where = {'kind': 'unix', 'path': os.path.join(a.state_dir, 'xend-socket')}
    else:
        host, port = srv.socket.getsockname()[:2]
        xend_where = {'kind': 'tcp', 'host': host, 'port': port}
        # xend builds Location headers from the port it was configured with; let them show its
        # default 8000 (as a real xend's would), not the 0 that asked for an ephemeral port.
        if a.port == 0:
            srv.port = 8000

    import control

    def info():
        return {
            'python': sys.version.split()[0],
            'family': family,
            'needs': tree_needs.describe(needs),
            'tree': tree,
            'tz': tz,
            'hostUtcOffset': control.host_utc_offset(),
            'placeholders': ph.describe(),
            'generatedModules': list(gen.made),
            'stateDir': a.state_dir,
            'privateMounts': private_mounts,
            'pid': os.getpid(),
        }
    ctl = control.Controller({'tz': tz, 'domains_path': os.path.join(a.state_dir, 'domains'),
                              'placeholders': ph, 'info': info})
    _, ctl_where = control.start(ctl, a.listen, a.host, a.control_port,
                                 os.path.join(a.state_dir, 'control-socket'))
    ready = info()
    ready.update({'xend': xend_where, 'control': ctl_where})
    emit('XEND-COMPAT-READY', ready)

    if a.foreground:
        # PID 1 in a container ignores SIGTERM unless it handles it.
        import signal
        stop = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.append(1))
        while not stop:
            time.sleep(0.2)   # a plain flag: a lock taken in a signal handler could deadlock
        return 0
    # Stay alive until stdin closes (the launcher died) or a signal ends us.
    try:
        while True:
            line = sys.stdin.readline()
            if not line:
                break
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == '__main__':
    try:
        rc = main(sys.argv[1:])
    except SystemExit:
        raise
    except BaseException, e:
        emit('XEND-COMPAT-FAILED', {'error': '%s: %s' % (e.__class__.__name__, e),
                                    'trace': traceback.format_exc()})
        rc = 1
    sys.stdout.flush()
    os._exit(rc)
