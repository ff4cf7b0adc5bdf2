"""Placeholders for pykiso modules kiso does not ship (pykiso.lib.*, pykiso.interfaces.*, ...).

pykiso suites import connector and auxiliary classes for type hints or
isinstance checks (`from pykiso.lib.connectors.cc_raw_loopback import
CCLoopback`). In kiso those types are built in and configured in the YAML;
the import succeeds and gives a class that says so when it is used.
"""

import importlib.abc
import importlib.machinery
import sys
import types


class _KisoBuiltIn:
    def __init__(self, *args, **kwargs):
        raise RuntimeError(f"{type(self).__module__}.{type(self).__name__} is one of kiso's built-in types: declare it in the station YAML and use it through pykiso.auxiliaries")


class _StubModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        stub = type(name, (_KisoBuiltIn,), {"__module__": self.__name__})
        setattr(self, name, stub)
        return stub


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path, target=None):
        # Last on sys.meta_path: asked only when no real module of that name exists.
        if not fullname.startswith("pykiso."):
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec):
        module = _StubModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


if not any(isinstance(f, _StubFinder) for f in sys.meta_path):
    sys.meta_path.append(_StubFinder())
