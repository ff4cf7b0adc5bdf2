"""kiso's Python process: loads pykiso suites and runs their steps as kiso asks.

kiso owns the run (which case, timeouts, retries of whole cases, reports);
this process imports the suite files, says what cases they hold, and runs
one step at a time: a suite's setup or teardown, a case's setUp, test
method or tearDown. Logging, print output and assert* rows go to kiso as
they happen.
"""

import importlib.util
import inspect
import io
import logging
import os
import signal
import sys
import traceback
import unittest

from kiso_channel import channel, encode

SOURCE_ROOT = os.path.dirname(os.path.abspath(__file__))
# Frames of kiso's pykiso and of Python's own library are not where a test failed.
_NOT_SUITE = (SOURCE_ROOT, os.path.dirname(os.path.dirname(os.path.abspath(unittest.__file__))))


class KisoLogHandler(logging.Handler):
    def emit(self, record):
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
            channel().send({"type": "log", "level": record.levelno, "logger": record.name, "message": message, "file": record.pathname, "line": record.lineno})
        except Exception:
            self.handleError(record)


class KisoStream(io.TextIOBase):
    """print() of a suite: whole lines to kiso's log."""

    def __init__(self, name):
        self.name = name
        self._buffer = ""

    def writable(self):
        return True

    def write(self, text):
        self._buffer += text
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            channel().send({"type": "output", "stream": self.name, "text": line})
        return len(text)

    def flush(self):
        if self._buffer:
            channel().send({"type": "output", "stream": self.name, "text": self._buffer})
            self._buffer = ""


def error_of(error, tb=None):
    """An exception as kiso reports it: type, message, the Python traceback and the suite line it came from."""
    tb = tb or error.__traceback__
    frames = [f for f in traceback.extract_tb(tb) if not f.filename.startswith(_NOT_SUITE)]
    where = frames[-1] if frames else None
    message = str(error) or type(error).__name__
    # The traceback as the suite's author needs it: their frames only, then the exception.
    text = "".join(["Traceback (most recent call last):\n", *traceback.format_list(frames), *traceback.format_exception_only(type(error), error)]).rstrip()
    out = {"type": type(error).__name__, "message": message, "traceback": text}
    if where is not None:
        out["file"] = where.filename
        out["line"] = where.lineno
    return out


class Suites:
    """Imported suite modules and the test objects of the running cases."""

    def __init__(self):
        self.modules = {}
        self.tests = {}

    def module(self, file, suite_dir):
        file = os.path.abspath(file)
        if file in self.modules:
            return self.modules[file]
        if suite_dir not in sys.path:
            sys.path.insert(0, suite_dir)
        name = os.path.splitext(os.path.basename(file))[0]
        spec = importlib.util.spec_from_file_location(name, file)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        self.modules[file] = module
        return module

    def classes(self, module):
        from pykiso.test_coordinator.test_suite import BaseTestSuite

        found = []
        for attribute, value in vars(module).items():
            if not (inspect.isclass(value) and issubclass(value, unittest.TestCase)):
                continue
            if value.__module__ != module.__name__:
                continue  # imported from elsewhere: that module's own suite
            found.append((attribute, value))
        return found, BaseTestSuite

    def discover(self, command):
        from pykiso.test_coordinator.test_case import RemoteTest
        from pykiso.test_coordinator.test_suite import BasicTestSuiteSetup, BasicTestSuiteTeardown, RemoteTestSuiteSetup, RemoteTestSuiteTeardown

        suite_id = command["suite_id"]
        # Suite ids the station gives to other entries of this same folder: their classes are theirs.
        claimed = set(command.get("claimed") or [])
        out = {"cases": [], "setups": [], "teardowns": [], "errors": [], "ignored": []}
        for file in command["files"]:
            try:
                module = self.module(file, command["suite_dir"])
            except BaseException as error:  # a SyntaxError, an ImportError, an exit() at import
                out["errors"].append({"file": file, **error_of(error)})
                continue
            classes, base_suite = self.classes(module)
            for attribute, cls in classes:
                params = getattr(cls, "_kiso_params", None)
                cls_suite = params.suite_id if params else 0
                name = getattr(cls, "_kiso_name", cls.__name__)
                line = _line_of(cls)
                # pykiso runs every class of the folder, whatever its suite id; kiso leaves the classes
                # of a suite id that another entry of the station gives this same folder to that entry.
                if cls_suite and cls_suite != suite_id and cls_suite in claimed:
                    out["ignored"].append({"class": name, "suite_id": cls_suite})
                    continue
                ref = {"file": os.path.abspath(file), "class": attribute, "name": name, "line": line}
                timeouts = {k: v for k, v in (("setup", params and params.setup_timeout), ("run", params and params.run_timeout), ("teardown", params and params.teardown_timeout)) if v}
                aux_names = [getattr(a, "name", str(a)) for a in (params.aux_list if params else [])]
                if issubclass(cls, BasicTestSuiteSetup) or issubclass(cls, BasicTestSuiteTeardown):
                    remote = issubclass(cls, (RemoteTestSuiteSetup, RemoteTestSuiteTeardown))
                    ref = {**ref, "suite_id": cls_suite, "remote": remote, "timeouts": timeouts, "auxiliaries": aux_names}
                    out["setups" if issubclass(cls, BasicTestSuiteSetup) else "teardowns"].append(ref)
                    continue
                if issubclass(cls, base_suite):
                    continue
                skip = getattr(cls, "__unittest_skip_why__", None) if getattr(cls, "__unittest_skip__", False) else None
                for method in unittest.TestLoader().getTestCaseNames(cls):
                    fn = getattr(cls, method)
                    method_skip = getattr(fn, "__unittest_skip_why__", None) if getattr(fn, "__unittest_skip__", False) else None
                    xray = getattr(fn, "_kiso_xray", None)
                    out["cases"].append({
                        **ref,
                        "method": method,
                        "line": _line_of(fn) or line,
                        "case_id": params.case_id if params else 0,
                        "suite_id": cls_suite,
                        "remote": issubclass(cls, RemoteTest),
                        "auxiliaries": aux_names,
                        "tags": _tags(params.tag if params else None),
                        "requirements": _requirements(params.test_ids if params else None, xray),
                        "timeouts": timeouts,
                        "skip": skip if skip is not None else method_skip,
                        "doc": inspect.getdoc(fn) or inspect.getdoc(cls) or None,
                    })
        return out

    def instance(self, command):
        module = self.module(command["file"], command["suite_dir"])
        return getattr(module, command["class"])

    def run_suite_step(self, command):
        cls = self.instance(command)
        test = cls("test_suite_setUp" if command["step"] == "setup" else "test_suite_tearDown")
        getattr(test, test._testMethodName)()

    def run_case_step(self, command):
        key = (command["file"], command["class"], command["method"])
        step = command["step"]
        if step == "setup":
            test = self.instance(command)(command["method"])
            self.tests[key] = test
            try:
                test.setUp()
            except BaseException:
                test._kiso_setup_failed = True  # unittest's rule: no tearDown after a failed setUp (cleanups still run)
                raise
            return
        test = self.tests.get(key)
        if test is None:
            # setUp never ran (it was not asked for, or failed before): nothing to run or tear down.
            if step == "teardown":
                return
            raise RuntimeError(f"{command['class']}.{command['method']}: setUp did not run")
        if step == "run":
            test._kiso_subtest_failures = []
            getattr(test, command["method"])()
            failures = test._kiso_subtest_failures
            if failures:
                label, error = failures[0]
                more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
                raise AssertionError(f"sub-test {label!r} failed{more}: {error}").with_traceback(error.__traceback__)
            return
        try:
            if not getattr(test, "_kiso_setup_failed", False):
                test.tearDown()
            test.doCleanups()
        finally:
            self.tests.pop(key, None)


def _line_of(obj):
    try:
        return inspect.getsourcelines(obj)[1]
    except (OSError, TypeError):
        return None


def _tags(tag):
    if not tag:
        return {}
    return {str(k): [str(x) for x in (v if isinstance(v, (list, tuple, set)) else [v])] for k, v in dict(tag).items()}


def _requirements(test_ids, xray):
    out = []
    if isinstance(test_ids, dict):
        for values in test_ids.values():
            out.extend(str(v) for v in (values if isinstance(values, (list, tuple)) else [values]))
    elif isinstance(test_ids, (list, tuple)):
        out.extend(str(v) for v in test_ids)
    if xray:
        out.extend(str(v) for v in xray if v)
    return list(dict.fromkeys(out))


def outcome_of(action):
    try:
        action()
        return {"outcome": "passed"}
    except unittest.SkipTest as skip:
        return {"outcome": "skipped", "reason": str(skip) or "skipped"}
    except AssertionError as error:
        return {"outcome": "failed", "error": error_of(error)}
    except KeyboardInterrupt as error:
        return {"outcome": "error", "error": {**error_of(error), "type": "KeyboardInterrupt", "message": "interrupted (the step timed out or the run was stopped)"}}
    except BaseException as error:  # SystemExit too: a suite calling exit() must not end the process
        return {"outcome": "error", "error": error_of(error)}


def main():
    # A closed terminal hangs up the whole process group: kiso decides how the run stops.
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    logging.basicConfig(handlers=[KisoLogHandler()], level=int(os.environ.get("KISO_PYTHON_LOG_LEVEL", "20")), force=True)
    sys.stdout = KisoStream("stdout")
    sys.stderr = KisoStream("stderr")
    suites = Suites()
    link = channel()
    link.send({"type": "ready", "python": sys.version.split()[0], "pid": os.getpid()})
    while True:
        try:
            command = link.commands.get()
        except KeyboardInterrupt:
            continue  # an interrupt that came after its step was over
        kind = command.get("type")
        try:
            if kind == "discover":
                reply = {"type": "discovered", **suites.discover(command)}
            elif kind == "suite-step":
                reply = {"type": "step-done", **outcome_of(lambda: suites.run_suite_step(command))}
            elif kind == "case-step":
                reply = {"type": "step-done", **outcome_of(lambda: suites.run_case_step(command))}
            elif kind == "exit":
                sys.stdout.flush()
                sys.stderr.flush()
                return
            else:
                reply = {"type": "step-done", "outcome": "error", "error": {"type": "ProtocolError", "message": f"unknown command {kind!r}"}}
        except KeyboardInterrupt:
            reply = {"type": "step-done", "outcome": "error", "error": {"type": "KeyboardInterrupt", "message": "interrupted"}}
        sys.stdout.flush()
        sys.stderr.flush()
        link.send(encode({**reply, "id": command.get("id")}))


if __name__ == "__main__":
    main()
