"""kiso's bridge to python-can (spawned by kiso's CCPythonCan connector).

Gives kiso every adapter python-can drives (PCAN, Vector, Kvaser, ...).
It talks to kiso over stdin/stdout, one ASCII line per record:

kiso -> bridge
  first line  JSON {"interface": str, "channel": any, "kwargs": {...}}
              optional keys: "vector_serial_auto": true (kwargs["serial"] becomes
              the lowest Vector serial number connected, pykiso's serial: AUTO),
              "drop_log_prefixes": {logger: [text, ...]} (log records of that
              python logger starting with a text are dropped). A string
              kwargs["state"] becomes can.BusState[state] (ACTIVE, PASSIVE).
  S <seq> <id hex> <flags hex> <dlc> <data hex>   send a frame, answered by A or N
  C                                               close (stdin EOF closes too)

bridge -> kiso
  {"event": "opened", ...}                        the bus is open
  {"event": "error", "stage": ..., "message": ...} import/config/open failed; exit 2
  F <timestamp> <id hex> <flags hex> <dlc> <data hex>   a received frame
  A <seq>                                         frame <seq> handed to the bus
  N <seq> <JSON string>                           frame <seq> refused, with python's message
  {"event": "rx_error", ...}                      one receive failed (counted)
  {"event": "fatal", ...}                         the bus keeps failing; exit 3
  {"event": "closed", ...}                        bus.shutdown() done; exit 0

flags: 1 extended, 2 remote, 4 CAN FD, 8 bit-rate switch, 16 error state
indicator, 32 error frame. dlc is python-can's (the byte count; a remote
frame's requested length). Text lines resynchronise after any bad line and
cost little next to python-can itself.

The bridge exits on stdin EOF, so it never outlives kiso, and ignores
SIGINT: Ctrl-C goes to kiso, which closes the bus properly. Anything a
driver prints goes to stderr, which kiso logs.
"""

import json
import os
import signal
import sys
import threading

EXTENDED, REMOTE, FD, BRS, ESI, ERROR = 1, 2, 4, 8, 16, 32
RECEIVE_POLL_S = 0.1
# Consecutive receive errors after which the bus is considered gone.
MAX_RECEIVE_ERRORS = 20

# The protocol gets a private copy of stdout; fd 1 then points at stderr, so
# whatever a driver prints (Python print or C printf) cannot corrupt it.
out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
sys.stdout = sys.stderr
out_lock = threading.Lock()
stop = threading.Event()


def write(line):
    with out_lock:
        try:
            out.write(line.encode("utf-8") + b"\n")
            out.flush()
        except (OSError, ValueError):
            # kiso is gone: stop; stdin EOF ends the main loop.
            stop.set()


def event(name, **fields):
    fields["event"] = name
    write(json.dumps(fields))


def describe(error):
    text = str(error) or repr(error)
    cause = error.__cause__ or error.__context__
    if cause is not None and str(cause) and str(cause) not in text:
        text = f"{text} ({type(cause).__name__}: {cause})"
    return text


def frame_line(msg):
    flags = (
        (EXTENDED if msg.is_extended_id else 0)
        | (REMOTE if msg.is_remote_frame else 0)
        | (FD if msg.is_fd else 0)
        | (BRS if msg.bitrate_switch else 0)
        | (ESI if msg.error_state_indicator else 0)
        | (ERROR if msg.is_error_frame else 0)
    )
    data = "" if msg.is_remote_frame else bytes(msg.data).hex()
    return "F %.6f %x %x %d %s" % (msg.timestamp or 0.0, msg.arbitration_id, flags, msg.dlc, data)


def receive_loop(bus):
    errors = 0
    while not stop.is_set():
        try:
            msg = bus.recv(timeout=RECEIVE_POLL_S)
        except Exception as error:  # python-can raises its CanError family, drivers anything
            if stop.is_set():
                return
            errors += 1
            if errors >= MAX_RECEIVE_ERRORS:
                # The main thread is blocked reading stdin: end the process from here.
                event("fatal", stage="receive", type=type(error).__name__, message=describe(error))
                stop.set()
                try:
                    bus.shutdown()
                finally:
                    os._exit(3)
            event("rx_error", type=type(error).__name__, message=describe(error))
            stop.wait(0.01)
            continue
        errors = 0
        if msg is not None:
            write(frame_line(msg))


def send(can, bus, parts):
    seq = parts[1].decode("ascii")
    try:
        arbitration_id = int(parts[2], 16)
        flags = int(parts[3], 16)
        dlc = int(parts[4])
        data = bytes.fromhex(parts[5].decode("ascii")) if len(parts) > 5 else b""
        remote = bool(flags & REMOTE)
        msg = can.Message(
            arbitration_id=arbitration_id,
            is_extended_id=bool(flags & EXTENDED),
            is_remote_frame=remote,
            is_fd=bool(flags & FD),
            bitrate_switch=bool(flags & BRS),
            error_state_indicator=bool(flags & ESI),
            dlc=dlc if remote else None,
            data=None if remote else data,
            check=True,
        )
        bus.send(msg)
    except Exception as error:
        write("N %s %s" % (seq, json.dumps("%s: %s" % (type(error).__name__, describe(error)))))
        return
    write("A " + seq)


class DropPrefixes:
    """A logging filter: drops records whose message starts with one of the prefixes."""

    def __init__(self, prefixes):
        self.prefixes = tuple(prefixes)

    def filter(self, record):
        return not record.getMessage().startswith(self.prefixes)


def prepare_kwargs(can, config, kwargs):
    """Turns the JSON values python-can wants as objects into them; raises ValueError with the reason."""
    state = kwargs.get("state")
    if isinstance(state, str):
        try:
            kwargs["state"] = can.BusState[state.upper()]
        except KeyError:
            names = ", ".join(member.name for member in can.BusState)
            raise ValueError("state %r is not a python-can BusState (%s)" % (state, names))
    if config.get("vector_serial_auto"):
        from can.interfaces.vector.canlib import get_channel_configs

        serials = sorted({c.serial_number for c in get_channel_configs() if c.serial_number})
        if not serials:
            raise ValueError("serial: AUTO found no Vector device (python-can's get_channel_configs lists none)")
        kwargs["serial"] = serials[0]
    for name, prefixes in (config.get("drop_log_prefixes") or {}).items():
        import logging

        logging.getLogger(name).addFilter(DropPrefixes(prefixes))


def main():
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stdin = sys.stdin.buffer
    try:
        config = json.loads(stdin.readline() or b"null")
        interface = config["interface"]
        kwargs = dict(config.get("kwargs") or {})
    except Exception as error:
        event("error", stage="config", type=type(error).__name__, message="bad bridge configuration line: %s" % describe(error))
        return 2
    try:
        import can
    except Exception as error:
        event("error", stage="import", type=type(error).__name__, message="python-can cannot be imported by %s: %s" % (sys.executable, describe(error)))
        return 2
    if "channel" in config and config["channel"] is not None:
        kwargs["channel"] = config["channel"]
    try:
        prepare_kwargs(can, config, kwargs)
    except Exception as error:
        event("error", stage="config", type=type(error).__name__, message=describe(error))
        return 2
    try:
        bus = can.Bus(interface=interface, **kwargs)
    except Exception as error:
        event("error", stage="open", type=type(error).__name__, message=describe(error))
        return 2

    receiver = threading.Thread(target=receive_loop, args=(bus,), name="kiso-rx", daemon=True)
    receiver.start()
    event("opened", channel_info=str(getattr(bus, "channel_info", "")), python_can=getattr(can, "__version__", "?"))

    for line in stdin:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == b"S" and len(parts) >= 5:
            send(can, bus, parts)
        elif parts[0] == b"C":
            break
        else:
            event("log", level="warn", message="bridge ignored an unknown command: %r" % line[:80])
        if stop.is_set():
            break

    stop.set()
    receiver.join(timeout=5)
    shutdown_error = None
    try:
        bus.shutdown()
    except Exception as error:
        shutdown_error = "%s: %s" % (type(error).__name__, describe(error))
    event("closed", shutdown_error=shutdown_error)
    return 0


if __name__ == "__main__":
    sys.exit(main())
