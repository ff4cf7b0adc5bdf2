#!/usr/bin/python3
"""A small slcan (Lawicel) adapter simulator on the far end of a pty, for
kiso's slcan peer tests. It is test equipment, not a mock of the connector:
it speaks the adapter side of the protocol the way CANable/USBtin firmware
does and reports what it sees.

Usage: slcan_adapter_sim.py PORT [--ack z|cr]

Adapter side (serial): commands end with CR; answers are CR (OK) or BEL
(error). C/S<n>/Y<n>/Z<n>/O/L as in the Lawicel manual: configuration only
while the channel is closed, C on a closed channel is an error. Transmit
commands t/T/r/R (and CAN FD d/D/b/B) are answered z CR / Z CR (Lawicel) or
CR (--ack cr, CANable style), or BEL when the channel is closed,
listen-only, or the line is invalid.

Control side: JSON lines on stdin, events as JSON lines on stdout:
  {"op": "fail", "prefix": "S"}      answer BEL to commands starting with S (null: stop)
  {"op": "frame", "id": 0x123, "ext": false, "rtr": false, "dlc": 2, "data": "AABB",
   "fd": false, "brs": false}         encode and send a received frame (+ stamp if Z1)
  {"op": "raw", "hex": "..."}        send raw bytes (garbage, truncated lines)
  {"op": "exit"}
Events: {"ready": true}, {"cmd": "S6"} for every command line, {"tx": {...}}
for every accepted transmit, {"ok": op} after each control op.
"""
import json
import sys
import threading
import time

import serial

BITRATES = {"0": 10000, "1": 20000, "2": 50000, "3": 100000, "4": 125000,
            "5": 250000, "6": 500000, "7": 800000, "8": 1000000}
DATA_BITRATES = {"0": 500000, "1": 1000000, "2": 2000000, "4": 4000000, "5": 5000000, "8": 8000000}
FD_LENGTHS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64]
HEX = set("0123456789ABCDEFabcdef")

out_lock = threading.Lock()
write_lock = threading.Lock()


def emit(event):
    with out_lock:
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()


class Adapter:
    def __init__(self, link, ack):
        self.link = link
        self.ack = ack
        self.open = False
        self.listen_only = False
        self.bitrate = None
        self.data_bitrate = None
        self.timestamps = False
        self.fail_prefix = None
        self.started = time.monotonic()

    def write(self, data):
        with write_lock:
            self.link.write(data)
            self.link.flush()

    def answer(self, ok, extended=None):
        if not ok:
            self.write(b"\x07")
        elif extended is None or self.ack == "cr":
            self.write(b"\r")
        else:
            self.write(b"Z\r" if extended else b"z\r")

    def handle(self, line):
        emit({"cmd": line})
        if self.fail_prefix is not None and line.startswith(self.fail_prefix):
            return self.answer(False)
        kind = line[:1]
        if kind == "C":
            ok = self.open
            self.open = False
            return self.answer(ok and line == "C")
        if kind == "S":
            ok = not self.open and len(line) == 2 and line[1] in BITRATES
            if ok:
                self.bitrate = BITRATES[line[1]]
            return self.answer(ok)
        if kind == "Y":
            ok = not self.open and len(line) == 2 and line[1] in DATA_BITRATES
            if ok:
                self.data_bitrate = DATA_BITRATES[line[1]]
            return self.answer(ok)
        if kind == "Z" and len(line) == 2:
            ok = not self.open and line[1] in "01"
            if ok:
                self.timestamps = line[1] == "1"
            return self.answer(ok)
        if kind in ("O", "L"):
            ok = not self.open and len(line) == 1
            if ok:
                self.open = True
                self.listen_only = kind == "L"
            return self.answer(ok)
        if kind and kind in "tTrRdDbB":
            frame = parse_frame(line)
            ok = frame is not None and self.open and not self.listen_only
            if ok:
                emit({"tx": frame})
            return self.answer(ok, extended=kind in "TRDB")
        return self.answer(False)

    def stamp(self):
        return "%04X" % (int((time.monotonic() - self.started) * 1000) % 60000)


def parse_frame(line):
    kind = line[0]
    ext = kind in "TRDB"
    fd = kind in "dDbB"
    id_len = 8 if ext else 3
    if len(line) < 1 + id_len + 1 or not set(line[1:]) <= HEX:
        return None
    ident = int(line[1 : 1 + id_len], 16)
    if ident > (0x1FFFFFFF if ext else 0x7FF):
        return None
    dlc = int(line[1 + id_len], 16)
    if not fd and dlc > 8:
        return None
    rtr = kind in "rR"
    length = 0 if rtr else (FD_LENGTHS[dlc] if fd else dlc)
    data = line[2 + id_len :]
    if len(data) != 2 * length:
        return None
    return {"id": ident, "ext": ext, "rtr": rtr, "fd": fd, "brs": kind in "bB", "dlc": dlc, "data": data.upper()}


def encode_frame(command, timestamps, stamp):
    ext = bool(command.get("ext", False))
    fd = bool(command.get("fd", False))
    rtr = bool(command.get("rtr", False))
    if fd:
        kind = "b" if command.get("brs") else "d"
    else:
        kind = "r" if rtr else "t"
    if ext:
        kind = kind.upper()
    ident = ("%08X" if ext else "%03X") % int(command["id"])
    data = "" if rtr else command.get("data", "").upper()
    if fd:
        dlc = "%X" % FD_LENGTHS.index(len(data) // 2)
    elif rtr:
        dlc = str(int(command.get("dlc", 0)))
    else:
        dlc = str(len(data) // 2)
    line = kind + ident + dlc + data
    if timestamps:
        line += command.get("stamp") or stamp
    return (line + "\r").encode("ascii")


def reader(adapter):
    line = bytearray()
    try:
        while True:
            chunk = adapter.link.read(1)
            if not chunk:
                continue
            if chunk == b"\r":
                adapter.handle(line.decode("latin-1"))
                line.clear()
            else:
                line += chunk
    except Exception as error:  # the pty went away
        emit({"closed": str(error)})


def main():
    args = sys.argv[1:]
    if not args:
        emit({"error": "usage: slcan_adapter_sim.py PORT [--ack z|cr]"})
        return 2
    ack = args[args.index("--ack") + 1] if "--ack" in args else "z"
    try:
        link = serial.Serial(args[0], baudrate=115200, timeout=0.2)
    except Exception as error:
        emit({"error": f"cannot open {args[0]}: {error}"})
        return 1
    adapter = Adapter(link, ack)
    threading.Thread(target=reader, args=(adapter,), daemon=True).start()
    emit({"ready": True, "port": args[0]})
    for text in sys.stdin:
        text = text.strip()
        if not text:
            continue
        command = json.loads(text)
        op = command.get("op")
        try:
            if op == "exit":
                break
            if op == "fail":
                adapter.fail_prefix = command.get("prefix")
            elif op == "frame":
                adapter.write(encode_frame(command, adapter.timestamps, adapter.stamp()))
            elif op == "raw":
                adapter.write(bytes.fromhex(command["hex"]))
            elif op == "state":
                emit({"state": {"open": adapter.open, "listen_only": adapter.listen_only, "bitrate": adapter.bitrate,
                                "data_bitrate": adapter.data_bitrate, "timestamps": adapter.timestamps}})
                continue
            else:
                emit({"error": f"unknown op {op!r}"})
                continue
            emit({"ok": op})
        except Exception as error:
            emit({"error": f"{op}: {error}"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
