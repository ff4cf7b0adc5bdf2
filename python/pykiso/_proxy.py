"""A pykiso auxiliary as Python sees it in kiso: every method is a call to kiso."""

import contextlib

from kiso_channel import channel


class _QueueView:
    """pykiso's `aux.queue_out`: only what tests ask of it (empty, qsize)."""

    def __init__(self, proxy):
        self._proxy = proxy

    def empty(self):
        return self.qsize() == 0

    def qsize(self):
        return channel().call(self._proxy.name, "queue_size", (), {})


class AuxiliaryProxy:
    def __init__(self, name, type_name):
        self.name = name
        self.type_name = type_name
        self.queue_out = _QueueView(self)

    def __repr__(self):
        return f"<kiso auxiliary {self.name} ({self.type_name})>"

    @property
    def is_instance(self):
        return channel().call(self.name, "is_instance", (), {})

    @contextlib.contextmanager
    def collect_messages(self):
        """pykiso collects received messages only inside this block; kiso always collects them."""
        yield

    def __getattr__(self, method):
        if method.startswith("_"):
            raise AttributeError(method)

        def call(*args, **kwargs):
            return channel().call(self.name, method, args, kwargs)

        call.__name__ = method
        return call
