"""pykiso's step report inside kiso: each assert* call of a test is a row.

The row (what was checked, expected, actual, passed, where) goes to kiso,
which puts it in the step report, the run record and the HTML report.
"""

import linecache
import os
import reprlib

from kiso_channel import channel

_repr = reprlib.Repr()
_repr.maxstring = 200
_repr.maxother = 200
_repr.maxlist = 32
_repr.maxdict = 32


def show(value):
    if isinstance(value, (bytes, bytearray)) and len(value) > 64:
        return repr(bytes(value[:64]))[:-1] + "…'"
    return _repr.repr(value)


class StepReport:
    """`self.step_report` of a test: header, message, current_table as in pykiso."""

    def __init__(self):
        self.header = {}
        self.message = None
        self.current_table = None
        self.last_error_message = None


# method name -> (number of value arguments, how the expected value reads)
_SHAPES = {
    "assertTrue": (1, lambda a: "True"),
    "assertFalse": (1, lambda a: "False"),
    "assertIsNone": (1, lambda a: "None"),
    "assertIsNotNone": (1, lambda a: "not None"),
    "assertEqual": (2, lambda a: show(a[1])),
    "assertNotEqual": (2, lambda a: f"!= {show(a[1])}"),
    "assertIs": (2, lambda a: f"is {show(a[1])}"),
    "assertIsNot": (2, lambda a: f"is not {show(a[1])}"),
    "assertIn": (2, lambda a: f"in {show(a[1])}"),
    "assertNotIn": (2, lambda a: f"not in {show(a[1])}"),
    "assertIsInstance": (2, lambda a: f"instance of {getattr(a[1], '__name__', a[1])}"),
    "assertNotIsInstance": (2, lambda a: f"not instance of {getattr(a[1], '__name__', a[1])}"),
    "assertGreater": (2, lambda a: f"> {show(a[1])}"),
    "assertGreaterEqual": (2, lambda a: f">= {show(a[1])}"),
    "assertLess": (2, lambda a: f"< {show(a[1])}"),
    "assertLessEqual": (2, lambda a: f"<= {show(a[1])}"),
    "assertRegex": (2, lambda a: f"matches {show(getattr(a[1], 'pattern', a[1]))}"),
    "assertNotRegex": (2, lambda a: f"does not match {show(getattr(a[1], 'pattern', a[1]))}"),
    "assertCountEqual": (2, lambda a: f"same elements as {show(a[1])}"),
    "assertAlmostEqual": (2, None),
    "assertNotAlmostEqual": (2, None),
}

# Context-manager asserts say nothing when called: they are not rows.
_NOT_ROWS = {"assertRaises", "assertRaisesRegex", "assertWarns", "assertWarnsRegex", "assertLogs", "assertNoLogs"}


def _almost(args, kwargs, negate):
    delta = kwargs.get("delta")
    places = kwargs.get("places")
    if delta is None and len(args) > 4:
        delta = args[4]
    if places is None and delta is None:
        places = args[2] if len(args) > 2 and isinstance(args[2], int) else 7
    text = f"{show(args[1])} ± {delta}" if delta is not None else f"{show(args[1])} to {places} places"
    return f"not {text}" if negate else text


def expected_text(name, args, kwargs):
    shape = _SHAPES.get(name)
    if name in ("assertAlmostEqual", "assertNotAlmostEqual"):
        return _almost(args, kwargs, name == "assertNotAlmostEqual") if len(args) >= 2 else None
    if shape and len(args) >= shape[0]:
        return shape[1](args)
    return show(args[1]) if len(args) > 1 else None


def message_of(name, args, kwargs):
    if "msg" in kwargs:
        return kwargs["msg"]
    arity = _SHAPES.get(name, (2, None))[0]
    if name in ("assertAlmostEqual", "assertNotAlmostEqual"):
        return args[3] if len(args) > 3 else None
    return args[arity] if len(args) > arity else None


def record(test, name, args, kwargs, passed, frame):
    report = getattr(test, "step_report", None)
    description = None
    if report is not None and report.message:
        description = report.message
        report.message = None
    if description is None:
        description = message_of(name, args, kwargs)
    file, line = frame.f_code.co_filename, frame.f_lineno
    if description is None:
        description = linecache.getline(file, line).strip() or name
    row = {
        "type": "check",
        "description": str(description),
        "operator": name,
        "actual": show(args[0]) if args else None,
        "expected": expected_text(name, args, kwargs),
        "passed": bool(passed),
        "file": os.path.abspath(file),
        "line": line,
    }
    if report is not None and report.current_table:
        row["table"] = str(report.current_table)
    channel().send(row)


def wrap_asserts(cls, base):
    """Replaces every assert* method that `base` defines by one that reports a row."""
    for name in dir(base):
        if not name.startswith("assert") or name in _NOT_ROWS or not name[6:7].isupper():
            continue
        original = getattr(base, name)
        if not callable(original):
            continue
        setattr(cls, name, _reporting(name, original))


def _reporting(name, original):
    def reporting(self, *args, **kwargs):
        # unittest's asserts call each other (assertEqual -> assertListEqual): one row per test call.
        depth = getattr(self, "_kiso_assert_depth", 0)
        self._kiso_assert_depth = depth + 1
        import sys

        frame = sys._getframe(1)
        try:
            original(self, *args, **kwargs)
        except AssertionError:
            if depth == 0:
                record(self, name, args, kwargs, False, frame)
            raise
        else:
            if depth == 0:
                record(self, name, args, kwargs, True, frame)
        finally:
            self._kiso_assert_depth = depth

    reporting.__name__ = name
    reporting.__doc__ = original.__doc__
    return reporting
