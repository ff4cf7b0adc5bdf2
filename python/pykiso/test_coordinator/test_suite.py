"""pykiso's suite setup and teardown classes as kiso runs them."""

import logging
import unittest

from pykiso import message
from pykiso.step_report import StepReport, wrap_asserts
from pykiso.test_coordinator.test_message_handler import run_test_app_step

log = logging.getLogger(__name__)


class BaseTestSuite(unittest.TestCase):
    def __init__(self, test_suite_id=0, test_case_id=0, aux_list=None, setup_timeout=None, run_timeout=None, teardown_timeout=None, test_ids=None, tag=None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.test_suite_id = test_suite_id
        self.test_case_id = test_case_id
        self.test_auxiliary_list = list(aux_list or [])
        self.setup_timeout = setup_timeout
        self.run_timeout = run_timeout
        self.teardown_timeout = teardown_timeout
        self.test_ids = test_ids
        self.tag = tag
        self.step_report = StepReport()

    def cleanup_and_skip(self, aux, info_to_print):
        """pykiso's: abort what the DUT auxiliary runs (if it is one), then fail."""
        from pykiso.test_coordinator.test_case import cleanup_and_fail

        cleanup_and_fail(self, aux, info_to_print)


wrap_asserts(BaseTestSuite, unittest.TestCase)


class BasicTestSuiteSetup(BaseTestSuite):
    """Runs once before the suite's cases: override test_suite_setUp."""

    def test_suite_setUp(self):
        pass


class BasicTestSuiteTeardown(BaseTestSuite):
    """Runs once after the suite's cases: override test_suite_tearDown."""

    def test_suite_tearDown(self):
        pass


class _RemoteTimeouts:
    response_timeout = 10

    def __init__(self, test_suite_id=0, test_case_id=0, aux_list=None, setup_timeout=None, run_timeout=None, teardown_timeout=None, test_ids=None, tag=None, *args, **kwargs):
        super().__init__(test_suite_id, test_case_id, aux_list, setup_timeout, run_timeout, teardown_timeout, test_ids, tag, *args, **kwargs)
        self.setup_timeout = setup_timeout or self.response_timeout
        self.run_timeout = run_timeout or self.response_timeout
        self.teardown_timeout = teardown_timeout or self.response_timeout


class RemoteTestSuiteSetup(_RemoteTimeouts, BasicTestSuiteSetup):
    """pykiso's: the suite setup runs TEST_SUITE_SETUP on the device's test app through the DUT auxiliaries of aux_list."""

    def test_suite_setUp(self):
        run_test_app_step(self, message.MessageCommandType.TEST_SUITE_SETUP, self.setup_timeout)


class RemoteTestSuiteTeardown(_RemoteTimeouts, BasicTestSuiteTeardown):
    """pykiso's: the suite teardown runs TEST_SUITE_TEARDOWN on the device's test app through the DUT auxiliaries of aux_list."""

    def test_suite_tearDown(self):
        run_test_app_step(self, message.MessageCommandType.TEST_SUITE_TEARDOWN, self.teardown_timeout)
