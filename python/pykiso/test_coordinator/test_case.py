"""pykiso's test-case API (BasicTest, RemoteTest, define_test_parameters,
retry_test_case, xray) as kiso runs it."""

import contextlib
import functools
import logging
import unittest

from pykiso import message
from pykiso.step_report import StepReport, wrap_asserts
from pykiso.test_coordinator.test_message_handler import run_test_app_step

log = logging.getLogger(__name__)


class _Params:
    """What define_test_parameters said about a class; kiso reads it at discovery."""

    def __init__(self, suite_id, case_id, aux_list, setup_timeout, run_timeout, teardown_timeout, test_ids, tag):
        self.suite_id = suite_id
        self.case_id = case_id
        self.aux_list = list(aux_list or [])
        self.setup_timeout = setup_timeout
        self.run_timeout = run_timeout
        self.teardown_timeout = teardown_timeout
        self.test_ids = test_ids
        self.tag = tag


class BasicTest(unittest.TestCase):
    """A pykiso test case: unittest's TestCase with the test parameters and the step report."""

    def __init__(self, test_suite_id=0, test_case_id=0, aux_list=None, setup_timeout=None, run_timeout=None, teardown_timeout=None, test_ids=None, tag=None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.test_auxiliary_list = list(aux_list or [])
        self.test_suite_id = test_suite_id
        self.test_case_id = test_case_id
        self.test_ids = test_ids
        self.tag = tag
        self.setup_timeout = setup_timeout
        self.run_timeout = run_timeout
        self.teardown_timeout = teardown_timeout
        self.start_time = self.stop_time = self.elapsed_time = 0
        self.step_report = StepReport()
        self._properties = None
        self._kiso_subtest_failures = []

    def setUp(self):
        pass

    def tearDown(self):
        pass

    @property
    def properties(self):
        return self._properties

    @properties.setter
    def properties(self, value):
        if not isinstance(value, dict):
            raise TypeError("properties must be a dict")
        self._properties = value

    def cleanup_and_skip(self, aux, info_to_print):
        """pykiso's: abort what the DUT auxiliary runs (if it is one), then fail the test."""
        cleanup_and_fail(self, aux, info_to_print)

    @contextlib.contextmanager
    def subTest(self, msg=None, **params):
        """A failure inside is recorded and the test goes on; the test fails at its end (unittest's rule)."""
        try:
            yield
        except unittest.SkipTest:
            raise
        except Exception as error:  # AssertionError and any other: both end only the sub-test
            label = msg if msg is not None else ", ".join(f"{k}={v!r}" for k, v in params.items()) or "sub-test"
            self._kiso_subtest_failures.append((label, error))
            log.warning(f"sub-test {label!r} failed: {error}")


wrap_asserts(BasicTest, unittest.TestCase)


def cleanup_and_fail(test, aux, info_to_print):
    log.critical(info_to_print)
    if getattr(aux, "type_name", "").endswith("DUTAuxiliary") and aux.send_abort_command(timeout=10) is not True:
        log.critical(f"Error occurred during abort command on auxiliary {aux}")
    test.fail(info_to_print)


class RemoteTest(BasicTest):
    """pykiso's RemoteTest: setUp, test_run and tearDown each run the step of the
    device's test app (TEST_CASE_SETUP, _RUN, _TEARDOWN) through the DUT
    auxiliaries of aux_list, waiting setup/run/teardown_timeout seconds (10 by
    default) for each report, as pykiso does."""

    response_timeout = 10

    def __init__(self, test_suite_id=0, test_case_id=0, aux_list=None, setup_timeout=None, run_timeout=None, teardown_timeout=None, test_ids=None, tag=None, *args, **kwargs):
        super().__init__(test_suite_id, test_case_id, aux_list, setup_timeout, run_timeout, teardown_timeout, test_ids, tag, *args, **kwargs)
        self.setup_timeout = setup_timeout or RemoteTest.response_timeout
        self.run_timeout = run_timeout or RemoteTest.response_timeout
        self.teardown_timeout = teardown_timeout or RemoteTest.response_timeout

    def setUp(self):
        run_test_app_step(self, message.MessageCommandType.TEST_CASE_SETUP, self.setup_timeout)

    def test_run(self):
        run_test_app_step(self, message.MessageCommandType.TEST_CASE_RUN, self.run_timeout)

    def tearDown(self):
        run_test_app_step(self, message.MessageCommandType.TEST_CASE_TEARDOWN, self.teardown_timeout)


def define_test_parameters(suite_id=0, case_id=0, aux_list=None, setup_timeout=None, run_timeout=None, teardown_timeout=None, test_ids=None, tag=None, variant=None):
    """Decorator filling in the test parameters of a BasicTest / RemoteTest or a suite setup/teardown."""
    if tag is None and variant is not None:
        tag = variant  # pykiso's older name for tags

    def decorate(DecoratedClass):
        params = _Params(suite_id, case_id, aux_list, setup_timeout, run_timeout, teardown_timeout, test_ids, tag)

        class NewClass(DecoratedClass):
            @functools.wraps(DecoratedClass.__init__)
            def __init__(self, *args, **kwargs):
                super(NewClass, self).__init__(suite_id, case_id, aux_list, setup_timeout, run_timeout, teardown_timeout, test_ids, tag, *args, **kwargs)

        NewClass.__doc__ = DecoratedClass.__doc__
        NewClass.__module__ = DecoratedClass.__module__
        ids = "" if suite_id == 0 and case_id == 0 else f"-{suite_id}-{case_id}"
        NewClass.__name__ = f"{DecoratedClass.__name__}{ids}"
        NewClass.__qualname__ = f"{DecoratedClass.__qualname__}{ids}"
        NewClass._kiso_params = params
        NewClass._kiso_name = DecoratedClass.__name__
        return NewClass

    return decorate


def retry_test_case(max_try=2, rerun_setup=False, rerun_teardown=False, stability_test=False):
    """pykiso's retry: run the method up to max_try times until it passes (or, for a stability test, max_try times in a row)."""

    def decorator(func):
        @functools.wraps(func)
        def wrapper(self):
            current = func
            for attempt in range(1, max_try + 1):
                try:
                    if attempt > 1:
                        if rerun_teardown:
                            current = type(self).tearDown
                            self.tearDown()
                        if rerun_setup:
                            current = type(self).setUp
                            self.setUp()
                    current = func
                    func(self)
                    if not stability_test:
                        return
                    log.info(f">>>>>>>>>> Stability test {attempt}/{max_try} succeed <<<<<<<<<<")
                except unittest.SkipTest:
                    raise
                except Exception as error:
                    log.warning(f"{type(self).__name__}.{getattr(current, '__name__', '?')} failed with exception: {error}.")
                    if attempt == max_try or stability_test:
                        log.error(f">>>>>>>>>> Test {attempt}/{max_try} failed <<<<<<<<<<")
                        raise
                    log.info(f">>>>>>>>>> Attempt: {attempt + 1}/{max_try} <<<<<<<<<<")

        return wrapper

    return decorator


def xray(test_key, req_id=None):
    """pykiso's Xray marker: kept as the test's requirement ids."""

    def decorator(func):
        func._kiso_xray = (test_key, req_id)
        return func

    return decorator
