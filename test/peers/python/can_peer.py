#!/usr/bin/python3
"""A python-can peer on a udp_multicast bus, driven by JSON lines on stdin.

kiso's virtual CAN tests (and bench) run it to check kiso against the real
python-can (Debian python3-can). Every answer and every received frame is one
JSON line on stdout.

Commands:
  {"cmd": "send", "frames": [{...can.Message kwargs, "data": "hex"}]}
  {"cmd": "send_seq", "count": N, "arbitration_id": X, "is_extended_id": B, "window": W}
      N frames whose data is the sequence number (4 bytes, big endian); when W
      frames are unacknowledged it waits for {"cmd": "ack", "count": K} lines.
  {"cmd": "pack", "frame": {...}}     -> python-can's wire bytes for a frame
  {"cmd": "own", "frame": {...}}      -> sends it and reports whether bus.recv()
                                         returns it (run without --listen)
  {"cmd": "quit"} or end of stdin     -> shuts the bus down and exits

With --listen, a thread receives as UdpMulticastBus._recv_internal does (same
unpack_message(check=True), same receive timestamp) but also keeps the sender's
address, so frames sent by python-can buses (source port = bus port, this peer
included) can be left out; kiso sends from its own port.
With --count-only, received frames are only counted, for benchmarks:
{"cmd": "count"} answers {"event": "count", "count": N, "seconds": S}, S being
the time from the first to the last frame received.
"""

import argparse
import json
import socket
import sys
import threading
import time

import can
from can.interfaces.udp_multicast.utils import pack_message, unpack_message

out_lock = threading.Lock()


def emit(**event):
    line = json.dumps(event)
    with out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def to_message(spec):
    kwargs = dict(spec)
    kwargs["data"] = bytes.fromhex(kwargs.get("data", ""))
    return can.Message(check=True, **kwargs)


def describe(msg, sender=None):
    event = {
        "event": "frame",
        "timestamp": msg.timestamp,
        "arbitration_id": msg.arbitration_id,
        "is_extended_id": msg.is_extended_id,
        "is_remote_frame": msg.is_remote_frame,
        "is_error_frame": msg.is_error_frame,
        "is_fd": msg.is_fd,
        "bitrate_switch": msg.bitrate_switch,
        "error_state_indicator": msg.error_state_indicator,
        "dlc": msg.dlc,
        "data": bytes(msg.data).hex(),
        "channel": msg.channel,
    }
    if sender is not None:
        event["sender"] = [sender[0], sender[1]]
    return event


def listen(bus, port, stop, count_only):
    multicast = bus._multicast  # the socket python-can's own recv() reads
    count = 0
    first = None
    while not stop.is_set():
        try:
            result = multicast.recv(0.1)
        except Exception as error:  # the socket was shut down under us
            if not stop.is_set():
                emit(event="error", error=repr(error))
            return
        if not result:
            continue
        data, sender, timestamp = result
        if sender[1] == port:
            continue  # sent by a python-can bus (this one included)
        try:
            msg = unpack_message(data, replace={"timestamp": timestamp}, check=True)
        except Exception as error:
            # python-can's bus.recv() raises CanOperationError here
            emit(event="error", error=repr(error))
            continue
        if not bus.is_fd and msg.is_fd:
            continue  # python-can ignores FD frames on a bus without FD
        if count_only:
            now = time.perf_counter()
            if first is None:
                first = now
            count += 1
            with out_lock:
                listen.count = count
                listen.seconds = now - first
        else:
            emit(**describe(msg, sender))


listen.count = 0
listen.seconds = 0.0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--channel", default="239.74.163.2")
    parser.add_argument("--port", type=int, default=43113)
    parser.add_argument("--no-fd", action="store_true")
    parser.add_argument("--listen", action="store_true")
    parser.add_argument("--count-only", action="store_true")
    parser.add_argument("--rcvbuf", type=int, default=0, help="SO_RCVBUF to ask for (capped by net.core.rmem_max)")
    args = parser.parse_args()

    bus = can.Bus(interface="udp_multicast", channel=args.channel, port=args.port, fd=not args.no_fd)
    sock = bus._multicast._socket
    if args.rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
    stop = threading.Event()
    listener = None
    if args.listen:
        listener = threading.Thread(target=listen, args=(bus, args.port, stop, args.count_only), daemon=True)
        listener.start()
    emit(event="ready", rcvbuf=sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))

    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            command = json.loads(line)
            name = command["cmd"]
            if name == "quit":
                break
            if name == "send":
                for spec in command["frames"]:
                    bus.send(to_message(spec))
                emit(event="sent", count=len(command["frames"]))
            elif name == "send_seq":
                count, window = command["count"], command.get("window", 0)
                acked = 0
                for seq in range(count):
                    while window and seq - acked >= window:
                        reply = sys.stdin.readline()
                        if not reply:
                            return
                        acked = max(acked, json.loads(reply)["count"])
                    bus.send(can.Message(
                        arbitration_id=command["arbitration_id"],
                        is_extended_id=command.get("is_extended_id", False),
                        data=seq.to_bytes(4, "big"),
                        check=True,
                    ))
                emit(event="sent", count=count)
            elif name == "ack":
                pass  # a late acknowledgement after send_seq finished
            elif name == "count":
                with out_lock:
                    current, seconds = listen.count, listen.seconds
                emit(event="count", count=current, seconds=seconds)
            elif name == "pack":
                emit(event="packed", hex=pack_message(to_message(command["frame"])).hex())
            elif name == "own":
                bus.send(to_message(command["frame"]))
                msg = bus.recv(timeout=2.0)
                emit(event="own", received=describe(msg) if msg is not None else None)
            else:
                emit(event="error", error=f"unknown command {name}")
    finally:
        stop.set()
        if listener is not None:
            listener.join(1.0)
        bus.shutdown()


if __name__ == "__main__":
    main()
