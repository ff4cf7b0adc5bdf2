#!/usr/bin/python3
"""Plays kiso's python-can bridge badly, to test how the connector takes bad input.

kiso runs `<python> <bridge script>`; pointing `python` at this file makes it
run instead (it ignores its argument). After the handshake it writes one line
of each malformed kind, then one valid frame with id 0x321; it acknowledges
sends with an even sequence number and refuses odd ones. Exits on stdin EOF.
"""

import json
import sys


def write(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


sys.stdin.readline()  # the configuration line
write(json.dumps({"event": "opened", "channel_info": "fake", "python_can": "fake"}))
write("hello, I am not the protocol")           # unreadable line
write("F 1.0 zz 0 1 00")                          # field not hex
write("F 1.0 123 0 9 000000000000000000")         # 9 bytes on classic CAN
write("F 1.0")                                    # too few fields
write("A 999")                                    # acknowledges nothing
write(json.dumps({"event": "rx_error", "type": "CanOperationError", "message": "fake receive error"}))
write(json.dumps({"event": "surprise"}))          # unknown event
write("F 1700000000.5 321 0 2 beef")              # a good frame
for line in sys.stdin:
    parts = line.split()
    if parts and parts[0] == "S":
        seq = int(parts[1])
        if seq % 2 == 0:
            write("A %d" % seq)
        else:
            write("N %d %s" % (seq, json.dumps("CanOperationError: fake refusal")))
