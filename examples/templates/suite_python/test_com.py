"""pykiso's communication example, as pykiso's templates write it."""

import logging

import pykiso
from pykiso.auxiliaries import com_aux


@pykiso.define_test_parameters(suite_id=1, aux_list=[com_aux])
class SuiteSetup(pykiso.BasicTestSuiteSetup):
    def test_suite_setUp(self):
        logging.info("suite setup: the loopback is ready")
        com_aux.clear_buffer()


@pykiso.define_test_parameters(suite_id=1, aux_list=[com_aux])
class SuiteTeardown(pykiso.BasicTestSuiteTeardown):
    def test_suite_tearDown(self):
        logging.info("suite teardown")


@pykiso.define_test_parameters(suite_id=1, case_id=1, aux_list=[com_aux], test_ids={"Component1": ["REQ-COM-1"]}, tag={"variant": ["nightly"]})
class SendAndReceive(pykiso.BasicTest):
    """Every request comes back unchanged."""

    def test_run(self):
        with com_aux.collect_messages():
            for _ in range(20):
                request = b"\x02\x04\x06"
                self.assertTrue(com_aux.send_message(request), msg="request sent")
                self.assertEqual(com_aux.receive_message(timeout_in_s=1), request, msg="echo")
        self.assertTrue(com_aux.queue_out.empty())


@pykiso.define_test_parameters(suite_id=1, case_id=2, aux_list=[com_aux], tag={"variant": ["nightly", "quick"]})
class StepReport(pykiso.BasicTest):
    """pykiso's step report: tables, custom messages, non-critical sub-tests."""

    def setUp(self):
        super().setUp()
        self.step_report.header["Version_device"] = "2022-1234"

    def test_run(self):
        voltage = 3.8
        self.step_report.current_table = "Power"
        self.assertAlmostEqual(voltage, 4, delta=1, msg="Check voltage device")
        self.step_report.current_table = "Link"
        com_aux.send_message(b"PING")
        self.assertIn(b"PI", com_aux.receive_message(timeout_in_s=1), msg="answer")


side_effect = iter([False, True])


@pykiso.define_test_parameters(suite_id=1, case_id=3)
class Retried(pykiso.BasicTest):
    """Passes on its second attempt."""

    @pykiso.retry_test_case(max_try=3)
    def test_run(self):
        self.assertTrue(next(side_effect), msg="flaky check")
