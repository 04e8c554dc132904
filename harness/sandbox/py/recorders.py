# -*- coding: utf-8 -*-
"""Recorder modules for the compiled xen.lowlevel helpers xend imports but the
define/start paths do not need (acm, flask, scf, process, checkpoint, netlink):
every attribute is a function that records its call and returns 0.
ptsname returns a fake pty name.  Written for xend-compat."""
import sandbox_state


class RecorderModule(object):
    def __init__(self, name):
        self.__name__ = name
        self.__file__ = '<xend-compat recorder>'
        self.__path__ = []

    def __getattr__(self, attr):
        if attr.startswith('__'):
            raise AttributeError(attr)
        name = self.__name__

        def recorder(*args, **kwargs):
            sandbox_state.record(name + '.' + attr, args=[str(a) for a in args])
            return 0
        recorder.__name__ = attr
        return recorder


class PtsnameModule(RecorderModule):
    def ptsname(self, fd):
        return '/dev/pts/xend-compat-%d' % int(fd)


class AcmError(RuntimeError):
    pass


class AcmModule(RecorderModule):
    """xen.lowlevel.acm on a hypervisor built without ACM (the default build): the calls that read
    the active policy fail as the binding's do when the hypervisor has none, so 3.1's
    xen.util.security sees 'INACTIVE' (3.2 and later reach acm only through xsm's acm module,
    which the default dummy module never loads)."""
    Error = AcmError

    def policy(self, *args):
        sandbox_state.record(self.__name__ + '.policy', args=[str(a) for a in args])
        raise AcmError(38, 'Function not implemented')

    def getssid(self, *args):
        sandbox_state.record(self.__name__ + '.getssid', args=[str(a) for a in args])
        raise AcmError(38, 'Function not implemented')
