"""pykiso's suite setup and teardown classes as kiso runs them."""

import logging
import unittest

from pykiso.step_report import StepReport, wrap_asserts

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
        log.critical(info_to_print)
        self.skipTest(info_to_print)


wrap_asserts(BaseTestSuite, unittest.TestCase)


class BasicTestSuiteSetup(BaseTestSuite):
    """Runs once before the suite's cases: override test_suite_setUp."""

    def test_suite_setUp(self):
        pass


class BasicTestSuiteTeardown(BaseTestSuite):
    """Runs once after the suite's cases: override test_suite_tearDown."""

    def test_suite_tearDown(self):
        pass


class RemoteTestSuiteSetup(BasicTestSuiteSetup):
    """pykiso's TestApp flavour; in kiso the same as BasicTestSuiteSetup."""


class RemoteTestSuiteTeardown(BasicTestSuiteTeardown):
    """pykiso's TestApp flavour; in kiso the same as BasicTestSuiteTeardown."""
