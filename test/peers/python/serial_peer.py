#!/usr/bin/python3
"""Far end of a serial link for kiso's peer tests, on pyserial.

Usage: serial_peer.py PORT [--baudrate N] [--exclusive]

Reads one JSON command per line on stdin, answers one JSON event per line
on stdout:
  {"op": "write", "hex": "..."}                 -> {"ok": "write"}
  {"op": "write", "hex": "...", "pieces": 3}     writes in 3 flushed pieces
  {"op": "write_random", "count": N, "seed": S} -> {"ok": "write_random", "sha256": ...}
  {"op": "read", "count": N, "timeout": T}      -> {"ok": "read", "bytes": n, "sha256": ..., "hex": ...}
  {"op": "exit"}
Errors are reported as {"error": "..."}; the first line is {"ready": true}.
"""
import hashlib
import json
import random
import sys
import time

import serial


def emit(event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def main():
    args = sys.argv[1:]
    if not args:
        emit({"error": "usage: serial_peer.py PORT [--baudrate N] [--exclusive]"})
        return 2
    port = args[0]
    baudrate = 115200
    exclusive = "--exclusive" in args
    if "--baudrate" in args:
        baudrate = int(args[args.index("--baudrate") + 1])
    try:
        link = serial.Serial(port, baudrate=baudrate, timeout=1, exclusive=exclusive)
    except Exception as error:  # report, do not trace
        emit({"error": f"cannot open {port}: {error}"})
        return 1
    emit({"ready": True, "port": port})
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        command = json.loads(line)
        op = command.get("op")
        try:
            if op == "exit":
                break
            if op == "write":
                data = bytes.fromhex(command["hex"])
                pieces = max(1, int(command.get("pieces", 1)))
                size = max(1, -(-len(data) // pieces))
                for offset in range(0, len(data), size):
                    link.write(data[offset : offset + size])
                    link.flush()
                    if pieces > 1:
                        time.sleep(0.02)
                emit({"ok": "write", "bytes": len(data)})
            elif op == "write_random":
                data = random.Random(command.get("seed", 0)).randbytes(int(command["count"]))
                link.write(data)
                link.flush()
                emit({"ok": "write_random", "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()})
            elif op == "read":
                count = int(command["count"])
                deadline = time.monotonic() + float(command.get("timeout", 30))
                received = bytearray()
                while len(received) < count and time.monotonic() < deadline:
                    received += link.read(min(65536, count - len(received)))
                event = {"ok": "read", "bytes": len(received), "sha256": hashlib.sha256(received).hexdigest()}
                if len(received) <= 4096:
                    event["hex"] = received.hex()
                emit(event)
            else:
                emit({"error": f"unknown op {op!r}"})
        except Exception as error:
            emit({"error": f"{op}: {error}"})
    link.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
