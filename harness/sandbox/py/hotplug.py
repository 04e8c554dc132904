# -*- coding: utf-8 -*-
"""Fake hotplug agent: what udev and Xen's hotplug scripts (vif-bridge, block, ...) do for
xend when a device backend appears in xenstore: report success by writing
`hotplug-status = connected` into the backend's directory.  Without it xend waits
for its device-create timeout (100 s) and fails the start.  No bridge or block
device is touched.  Written for xend-compat."""
import re
import threading

import fake_xs
import sandbox_state

BACKEND_ROOT = '/local/domain/0/backend'
_DEV = re.compile(r'^(/local/domain/0/backend/[^/]+/\d+/\d+)(/.*)?$')


def start():
    h = fake_xs.xs()
    h.watch(BACKEND_ROOT, 'xend-compat-hotplug')
    st = fake_xs.store()

    def run():
        while True:
            path, _ = h.read_watch()
            m = _DEV.match(path)
            if not m:
                continue
            dev = m.group(1)
            # Only once the device directory holds what xend wrote (its 'frontend' key).
            if st.read(None, dev + '/frontend') is None:
                continue
            if st.read(None, dev + '/hotplug-status') is None:
                st.write(None, dev + '/hotplug-status', 'connected')
                sandbox_state.record('hotplug.connected', backend=dev)
    t = threading.Thread(target=run, name='xend-compat-hotplug')
    t.setDaemon(True)
    t.start()
    return h
