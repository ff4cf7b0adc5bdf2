"""pykiso's TestApp interaction (test_message_handler.test_app_interaction), as kiso runs it.

For each auxiliary of the test's aux_list (pykiso's DUTAuxiliary), one call to
kiso: send the command with the test's suite and case ids, wait for its ACK
(timeout_cmd seconds, the command sent twice) and for the report (the
test's setup/run/teardown timeout). kiso's DUTAuxiliary does the waiting,
acknowledges what the device sends and, when no ACK or no report comes,
sends ABORT as pykiso's cleanup_and_skip does. Here the outcome becomes the
test's, as in pykiso: a failed report fails the assertEqual against
TEST_PASS, no ACK or no report fails the test. kiso is stricter on one
point: a test run the device reports not implemented is SKIP (pykiso lets it
pass); a setup or teardown not implemented passes with a warning, as in pykiso.
"""

import functools
import logging

from pykiso import message

log = logging.getLogger(__name__)


def _timeout_for(test, fixture):
    if "setup" in fixture:
        return test.setup_timeout
    if "teardown" in fixture:
        return test.teardown_timeout
    return test.run_timeout


def run_test_app_step(test, message_type, timeout_resp, timeout_cmd=5):
    """Runs one TestApp step on every auxiliary of `test`'s aux_list and applies the outcome to `test`."""
    command = message.MessageCommandType(message_type)
    if not test.test_auxiliary_list:
        raise RuntimeError(f"{type(test).__name__}: a remote test needs its DUT auxiliary in aux_list (define_test_parameters(aux_list=[aux_dut]))")
    for aux in test.test_auxiliary_list:
        result = aux.test_app_step(command.name, test.test_suite_id, test.test_case_id, timeout_cmd=timeout_cmd, timeout_resp=timeout_resp)
        for line in result.get("logs") or []:
            log.info(f"DUT log ({aux.name}): {line}")
        outcome = result["outcome"]
        if outcome in ("no_ack", "no_report"):
            log.critical(result["reason"])
            if result.get("abortAcknowledged") is not True:
                log.critical(f"Error occurred during abort command on auxiliary {aux.name}")
            test.fail(result["reason"])
        if outcome == "not_implemented":
            if command in (message.MessageCommandType.TEST_CASE_RUN, message.MessageCommandType.TEST_SUITE_RUN, message.MessageCommandType.TEST_SECTION_RUN):
                test.skipTest(result["reason"])
            log.warning(result["reason"])
            continue
        # pykiso's assertEqual(report.sub_type, TEST_PASS); its message is the device's reason alone.
        long_message, test.longMessage = test.longMessage, False
        try:
            test.assertEqual(result.get("reportType"), "TEST_PASS", msg=result.get("reason") or f"{command.name} of {aux.name} reported TEST_PASS")
        finally:
            test.longMessage = long_message


def test_app_interaction(message_type, timeout_cmd=5):
    """pykiso's decorator: before the decorated method runs, its TestApp step runs on the DUT."""

    def inner_interaction(func):
        @functools.wraps(func)
        def handle_interaction(self, *args, **kwargs):
            fixture = func.__name__.lower()
            run_test_app_step(self, message_type, _timeout_for(self, fixture), timeout_cmd)
            return func(self, *args, **kwargs)

        return handle_interaction

    return inner_interaction
