#!/usr/bin/python3
"""A generic python-can peer for kiso's CAN connector tests (the far end of a bus).

Usage: python_can_peer.py '{"interface": "...", "channel": ..., "kwargs": {...}}'

Opens can.Bus(interface, channel, **kwargs) with any python-can interface
(udp_multicast, socketcan, virtual, ...) and prints one JSON line per event:
{"ready": true} once the bus is open (or {"error": "..."} and exit 2),
{"frame": {...}} per received frame, {"sent": n} after each send.
Reads JSON lines on stdin: {"send": {"id": int, "extended": bool, "fd": bool,
"brs": bool, "remote": bool, "dlc": int, "data": "hex"}}. Exits on
{"op": "exit"} or stdin EOF (peer-helpers' PythonPeer protocol).
"""

import json
import sys
import threading

stop = threading.Event()
lock = threading.Lock()


def emit(obj):
    with lock:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


def receive(bus):
    while not stop.is_set():
        try:
            msg = bus.recv(timeout=0.1)
        except Exception as error:  # keep listening; the test sees the error
            emit({"rx_error": str(error)})
            continue
        if msg is None:
            continue
        emit({"frame": {
            "id": msg.arbitration_id,
            "extended": msg.is_extended_id,
            "fd": msg.is_fd,
            "brs": msg.bitrate_switch,
            "esi": msg.error_state_indicator,
            "remote": msg.is_remote_frame,
            "error": msg.is_error_frame,
            "dlc": msg.dlc,
            "data": bytes(msg.data).hex(),
        }})


def main():
    config = json.loads(sys.argv[1])
    try:
        import can

        kwargs = dict(config.get("kwargs") or {})
        if config.get("channel") is not None:
            kwargs["channel"] = config["channel"]
        bus = can.Bus(interface=config["interface"], **kwargs)
    except Exception as error:
        emit({"error": "%s: %s" % (type(error).__name__, error)})
        return 2
    receiver = threading.Thread(target=receive, args=(bus,), daemon=True)
    receiver.start()
    emit({"ready": True})
    sent = 0
    for line in sys.stdin:
        if not line.strip():
            continue
        command = json.loads(line)
        if command.get("op") == "exit":
            break
        frame = command["send"]
        remote = frame.get("remote", False)
        bus.send(can.Message(
            arbitration_id=frame["id"],
            is_extended_id=frame.get("extended", False),
            is_fd=frame.get("fd", False),
            bitrate_switch=frame.get("brs", False),
            is_remote_frame=remote,
            dlc=frame.get("dlc") if remote else None,
            data=None if remote else bytes.fromhex(frame.get("data", "")),
        ))
        sent += 1
        emit({"sent": sent})
    stop.set()
    receiver.join(timeout=2)
    bus.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
