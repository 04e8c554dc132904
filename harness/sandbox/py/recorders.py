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
