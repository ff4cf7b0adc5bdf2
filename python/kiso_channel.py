"""The line-delimited JSON channel between kiso and its Python process.

kiso starts Python with a socket on file descriptor 3. Every message is one
JSON object per line; bytes travel as {"$bytes": "<base64>"}. A reader
thread takes kiso's lines: answers to auxiliary calls wake the waiting
caller, commands go to the main thread's queue. When kiso goes away (the
socket closes) Python exits at once, so no test process outlives kiso.
"""

import base64
import json
import os
import queue
import socket
import threading

_CHANNEL_FD = 3


def encode(value):
    """Python value -> JSON-able value (bytes as {"$bytes": base64})."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [encode(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def decode(value):
    if isinstance(value, dict):
        if set(value) == {"$bytes"}:
            return base64.b64decode(value["$bytes"])
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


class KisoCallError(Exception):
    """An auxiliary call that kiso answered with an error."""


class Channel:
    def __init__(self, fd=_CHANNEL_FD):
        self._sock = socket.socket(fileno=fd)
        self._reader = self._sock.makefile("rb")
        self._write_lock = threading.Lock()
        self._next_id = 0
        self._pending = {}
        self._pending_lock = threading.Lock()
        self.commands = queue.Queue()
        thread = threading.Thread(target=self._read, name="kiso-channel", daemon=True)
        thread.start()

    def send(self, message):
        line = (json.dumps(message, separators=(",", ":")) + "\n").encode("utf-8")
        with self._write_lock:
            self._sock.sendall(line)

    def call(self, aux, method, args, kwargs):
        """Calls `method` of kiso's auxiliary `aux` and waits for its answer."""
        with self._pending_lock:
            self._next_id += 1
            call_id = self._next_id
            slot = {"event": threading.Event(), "reply": None}
            self._pending[call_id] = slot
        try:
            self.send({"type": "call", "id": call_id, "aux": aux, "method": method, "args": encode(list(args)), "kwargs": encode(kwargs)})
            # Event.wait is interruptible: kiso's SIGINT (a step timeout) raises KeyboardInterrupt here.
            slot["event"].wait()
        finally:
            with self._pending_lock:
                self._pending.pop(call_id, None)
        reply = slot["reply"]
        if not reply.get("ok"):
            raise KisoCallError(reply.get("error", "the call failed"))
        return decode(reply.get("value"))

    def _read(self):
        try:
            for raw in self._reader:
                message = json.loads(raw)
                if message.get("type") == "reply":
                    with self._pending_lock:
                        slot = self._pending.get(message.get("id"))
                    if slot is not None:
                        slot["reply"] = message
                        slot["event"].set()
                else:
                    self.commands.put(message)
        except Exception:  # a broken channel is the same as a closed one
            pass
        # kiso is gone: nothing may outlive it.
        os._exit(70)


_channel = None


def channel():
    global _channel
    if _channel is None:
        _channel = Channel()
    return _channel
