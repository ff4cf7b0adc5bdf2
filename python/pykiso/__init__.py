"""pykiso's test-facing API, shipped with kiso: Python suites written for
pykiso run in kiso unchanged, their auxiliaries being kiso's own.
"""

__version__ = "0.0.0+kiso"

from pykiso import _stubs  # noqa: F401  (import pykiso.lib.* and other pykiso modules kiso does not ship)
from pykiso.test_coordinator.test_case import BasicTest, RemoteTest, define_test_parameters, retry_test_case, xray
from pykiso.test_coordinator.test_suite import BasicTestSuiteSetup, BasicTestSuiteTeardown, RemoteTestSuiteSetup, RemoteTestSuiteTeardown


def prompt(message, kind="confirm", choices=None, timeout_in_s=None):
    """kiso's operator prompt (no pykiso counterpart): asks the operator at the
    terminal or on kiso serve's page and returns the answer (True/False for
    confirm, a string, a number, or one of `choices`). With no operator it
    raises, never hangs."""
    from kiso_channel import channel

    return channel().call("__kiso__", "prompt", (), {"message": message, "kind": kind, "choices": choices, "timeout_in_s": timeout_in_s})


def abort(reason=""):
    """pykiso.abort: stops the whole run."""
    raise KeyboardInterrupt(reason or "pykiso.abort()")


__all__ = [
    "BasicTest",
    "RemoteTest",
    "define_test_parameters",
    "retry_test_case",
    "xray",
    "BasicTestSuiteSetup",
    "BasicTestSuiteTeardown",
    "RemoteTestSuiteSetup",
    "RemoteTestSuiteTeardown",
    "abort",
    "prompt",
]
