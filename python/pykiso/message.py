"""pykiso's TestApp message types, as names and numbers.

kiso encodes and decodes the messages themselves (src/auxiliaries/testapp/message.ts);
suites use these enums to name a command, e.g. in
`test_app_interaction(message_type=message.MessageCommandType.TEST_CASE_RUN)`.
"""

import enum


@enum.unique
class MessageType(enum.IntEnum):
    COMMAND = 0
    REPORT = 1
    ACK = 2
    LOG = 3


@enum.unique
class MessageCommandType(enum.IntEnum):
    PING = 0
    TEST_SECTION_SETUP = 1
    TEST_SUITE_SETUP = 2
    TEST_CASE_SETUP = 3
    TEST_SECTION_RUN = 11
    TEST_SUITE_RUN = 12
    TEST_CASE_RUN = 13
    TEST_SECTION_TEARDOWN = 21
    TEST_SUITE_TEARDOWN = 22
    TEST_CASE_TEARDOWN = 23
    ABORT = 99


@enum.unique
class MessageReportType(enum.IntEnum):
    TEST_PASS = 0
    TEST_FAILED = 1
    TEST_NOT_IMPLEMENTED = 2

    def __str__(self):
        return f"{self.__class__.__name__}.{self.name}"


@enum.unique
class MessageAckType(enum.IntEnum):
    ACK = 0
    NACK = 1


@enum.unique
class TlvKnownTags(enum.IntEnum):
    TEST_REPORT = 110
    FAILURE_REASON = 112


@enum.unique
class MessageLogType(enum.IntEnum):
    RESERVED = 0
