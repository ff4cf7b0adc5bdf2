"""python-can's own log writers and readers, for kiso's log format tests.

  can_logs.py write FORMAT PATH   frames as JSON on stdin -> the file, written by python-can
  can_logs.py read FORMAT PATH    the file, read by python-can -> frames as JSON on stdout

A frame: {"timestamp", "id", "extended", "remote", "error", "fd", "brs", "esi",
"dlc", "data" (hex), "channel" (int or str or null), "rx"}.
"""
import json
import sys

import can

WRITERS = {
    "candump": can.CanutilsLogWriter,
    "asc": can.ASCWriter,
    "blf": can.BLFWriter,
    "trc": can.TRCWriter,
    "csv": can.CSVWriter,
}
READERS = {
    "candump": can.CanutilsLogReader,
    "asc": lambda path: can.ASCReader(path, relative_timestamp=False),
    "blf": can.BLFReader,
    "trc": can.TRCReader,
    "trc-1.1": can.TRCReader,
    "csv": can.CSVReader,
}


def to_message(frame):
    return can.Message(
        timestamp=frame["timestamp"],
        arbitration_id=frame["id"],
        is_extended_id=frame["extended"],
        is_remote_frame=frame["remote"],
        is_error_frame=frame["error"],
        is_fd=frame["fd"],
        bitrate_switch=frame["brs"],
        error_state_indicator=frame["esi"],
        dlc=frame["dlc"],
        data=bytes.fromhex(frame["data"]) if not frame["remote"] else None,
        channel=frame["channel"],
        is_rx=frame["rx"],
        check=True,
    )


def to_json(message):
    return {
        "timestamp": message.timestamp,
        "id": message.arbitration_id,
        "extended": message.is_extended_id,
        "remote": message.is_remote_frame,
        "error": message.is_error_frame,
        "fd": message.is_fd,
        "brs": message.bitrate_switch,
        "esi": message.error_state_indicator,
        "dlc": message.dlc,
        "data": bytes(message.data).hex(),
        "channel": message.channel,
        "rx": message.is_rx,
    }


def main():
    action, fmt, path = sys.argv[1:4]
    if action == "write":
        frames = json.load(sys.stdin)
        writer = WRITERS[fmt](path)
        for frame in frames:
            writer.on_message_received(to_message(frame))
        writer.stop()
    else:
        reader = READERS[fmt](path)
        print(json.dumps([to_json(message) for message in reader]))


if __name__ == "__main__":
    main()
