# -*- coding: utf-8 -*-
"""The sandbox's control channel: a second small HTTP server in the xend process
(loopback TCP or a unix socket) taking JSON `POST /control` requests.  It plays the
guest side that xend cannot see (qemu-dm rewriting the RTC offset, the guest powering
off) and reports what the fake hypervisor saw.  Written for xend-compat.

Requests ({"kind": ..., ...}) and replies ({"ok": bool, "detail": str, ...}):
  settle                        wait until xend's xenstore watches have run
  guest-set-rtc {domain,delta}  /vm/<uuid>/rtc/timeoffset := current + delta (like qemu-dm)
  guest-poweroff {domain}       hypervisor reports shutdown reason poweroff, @releaseDomain fires
  effective-clock {domain}      {"clock": EffectiveClock}
  config-sxp {domain}           {"text": <xend-domains-path>/<uuid>/config.sxp or null}
  provide-paths {paths}         placeholder files (see placeholders.py)
  info                          python version, tz, placeholders, generated modules
  calls {since}                 the fake hypervisor's call log
"""
import BaseHTTPServer
import json
import os
import socket
import SocketServer
import sys
import threading
import time

import fake_xc
import fake_xs
import sandbox_state

SETTLE_TIMEOUT = 20.0


class ControlError(Exception):
    pass


class Controller(object):
    def __init__(self, ctx):
        self.ctx = ctx   # dict: tz, host_offset, domains_path, placeholders, generated, info

    # --- helpers
    def _xd(self):
        from xen.xend import XendDomain
        return XendDomain.instance()

    def _lookup(self, name):
        if not isinstance(name, (str, unicode)) or not name:
            raise ControlError('missing "domain"')
        dom = self._xd().domain_lookup_nr(str(name))
        if dom is None:
            raise ControlError('no domain %s known to xend' % name)
        return dom

    def _uuid(self, dom):
        return dom.get_uuid()

    def settle(self, timeout=SETTLE_TIMEOUT):
        deadline = time.time() + timeout
        handles = list(fake_xs.store().handles)
        for h in handles:
            if not h.wait_idle(max(deadline - time.time(), 0)):
                return False
        return True

    # --- operations
    def op_settle(self, req):
        ok = self.settle()
        return {'ok': ok, 'detail': ok and 'watches idle' or 'watches still busy after %ds' % SETTLE_TIMEOUT}

    def op_guest_set_rtc(self, req):
        dom = self._lookup(req.get('domain'))
        try:
            delta = int(req.get('delta'))
        except (TypeError, ValueError):
            raise ControlError('"delta" must be an integer number of seconds')
        uuid = self._uuid(dom)
        domid = fake_xc.find_domid(uuid)
        if domid is None:
            return {'ok': False, 'detail': 'domain %s is not running (no device model to change the RTC)' % req.get('domain')}
        if not fake_xc.is_hvm(domid):
            return {'ok': False, 'detail': 'domain %s is PV: no device model carries an RTC change to '
                    'xenstore (on real Xen it stays inside the guest)' % req.get('domain')}
        self.settle()
        path = '/vm/%s/rtc/timeoffset' % uuid
        st = fake_xs.store()
        cur = st.read(None, path)
        try:
            base = int(cur) if cur not in (None, '') else 0
        except ValueError:
            base = 0
        new = base + delta
        st.write(None, path, str(new))
        sandbox_state.record('guest.set-rtc', uuid=uuid, domid=domid, old=cur, new=new)
        ok = self.settle()
        return {'ok': ok, 'detail': 'wrote %s = %d (was %s)%s' % (
            path, new, cur if cur is not None else 'absent', '' if ok else '; watches still busy')}

    def op_guest_poweroff(self, req):
        dom = self._lookup(req.get('domain'))
        uuid = self._uuid(dom)
        domid = fake_xc.find_domid(uuid)
        if domid is None:
            return {'ok': False, 'detail': 'domain %s is not running' % req.get('domain')}
        fake_xc.guest_shutdown(domid, fake_xc.SHUTDOWN_POWEROFF)
        deadline = time.time() + SETTLE_TIMEOUT
        while time.time() < deadline:
            self.settle(max(deadline - time.time(), 0))
            if fake_xc.find_domid(uuid) is None and dom.getDomid() is None:
                self.settle(max(deadline - time.time(), 0))
                return {'ok': True, 'detail': 'domain %d powered off; xend destroyed it' % domid}
            time.sleep(0.01)
        return {'ok': False, 'detail': 'xend did not destroy domain %d within %ds' % (domid, SETTLE_TIMEOUT)}

    def op_effective_clock(self, req):
        dom = self._lookup(req.get('domain'))
        uuid = self._uuid(dom)
        self.settle()
        dm = sandbox_state.dm_args(uuid)
        clock = {
            'setTimeOffsetCalls': sandbox_state.time_offsets(uuid),
            'vmRtcTimeoffset': fake_xs.store().read(None, '/vm/%s/rtc/timeoffset' % uuid),
            'dmLocaltime': ('-localtime' in dm[-1]) if dm else None,
            'tz': self.ctx['tz'],
            'hostUtcOffset': host_utc_offset(),
        }
        return {'ok': True, 'clock': clock, 'dmArgs': dm, 'uuid': uuid}

    def op_config_sxp(self, req):
        dom = self._lookup(req.get('domain'))
        uuid = self._uuid(dom)
        self.settle()
        p = os.path.join(self.ctx['domains_path'], uuid, 'config.sxp')
        if not os.path.exists(p):
            return {'ok': True, 'text': None, 'detail': 'no %s' % p}
        f = open(p)
        try:
            return {'ok': True, 'text': f.read(), 'detail': p}
        finally:
            f.close()

    def op_provide_paths(self, req):
        paths = req.get('paths') or []
        res = dict([(p, self.ctx['placeholders'].provide(str(p))) for p in paths])
        return {'ok': all(res.values()), 'provided': res,
                'placeholders': self.ctx['placeholders'].describe()}

    def op_info(self, req):
        return {'ok': True, 'info': self.ctx['info'](),}

    def op_calls(self, req):
        return {'ok': True, 'calls': sandbox_state.calls(int(req.get('since') or 0), req.get('filter'))}

    def handle(self, req):
        kind = req.get('kind')
        fn = getattr(self, 'op_' + str(kind).replace('-', '_'), None)
        if fn is None:
            return {'ok': False, 'detail': 'unknown control kind %r' % kind}
        try:
            return fn(req)
        except ControlError, e:
            return {'ok': False, 'detail': str(e)}


def host_utc_offset():
    """Seconds east of UTC, as xend's own code computes it (time.altzone under DST)."""
    if time.daylight and time.localtime().tm_isdst > 0:
        return -time.altzone
    return -time.timezone


class Handler(BaseHTTPServer.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.0'

    def log_message(self, fmt, *args):
        pass

    def address_string(self):
        return 'control'

    def _reply(self, code, obj):
        body = json.dumps(obj)
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == '/health':
            return self._reply(200, {'ok': True})
        self._reply(404, {'ok': False, 'detail': 'POST /control'})

    def do_POST(self):
        if self.path != '/control':
            return self._reply(404, {'ok': False, 'detail': 'POST /control'})
        n = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(n) if n else ''
        try:
            req = json.loads(raw or '{}')
            if not isinstance(req, dict):
                raise ValueError('not an object')
        except ValueError, e:
            return self._reply(400, {'ok': False, 'detail': 'bad JSON: %s' % e})
        try:
            res = self.server.controller.handle(req)
        except Exception, e:
            import traceback
            return self._reply(500, {'ok': False, 'detail': '%s: %s' % (e.__class__.__name__, e),
                                     'trace': traceback.format_exc()})
        self._reply(200, res)


class TcpServer(SocketServer.ThreadingMixIn, BaseHTTPServer.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class UnixServer(SocketServer.ThreadingMixIn, SocketServer.UnixStreamServer):
    daemon_threads = True

    def server_bind(self):
        if os.path.exists(self.server_address):
            os.unlink(self.server_address)
        SocketServer.UnixStreamServer.server_bind(self)
        self.server_name = 'control'
        self.server_port = 0

    def get_request(self):
        sock, _ = SocketServer.UnixStreamServer.get_request(self)
        return sock, ('unix', 0)


def start(controller, listen, host, port, path):
    if listen == 'unix':
        srv = UnixServer(path, Handler)
        where = {'kind': 'unix', 'path': path}
    else:
        srv = TcpServer((host, port), Handler)
        where = {'kind': 'tcp', 'host': host, 'port': srv.server_address[1]}
    srv.controller = controller
    t = threading.Thread(target=srv.serve_forever, name='xend-compat-control')
    t.setDaemon(True)
    t.start()
    return srv, where
