#!/usr/bin/python3
"""A SCPI power supply for kiso's InstrumentControlAuxiliary tests.

Usage: scpi_instrument_sim.py (--tcp PORT | --serial PATH) [--dialect default|ea|rs]
                              [--channels N] [--idn TEXT] [--load-ohms R]

Listens on 127.0.0.1:PORT (0: any free port; one client at a time, as a LAN
instrument's raw SCPI socket) or talks over the serial port PATH (pyserial).
Commands end with "\\n" ("\\r\\n" too) and may be chained with ";"; every
answer ends with "\\n". Headers match in long or short form, any case
(SOURce:VOLTage, SOUR:VOLT, sour:volt), optional nodes may be left out.

The supply: per output channel a target voltage, current and power, voltage,
current and power limits, an output switch, and a resistive load, so
MEAS:VOLT? / MEAS:CURR? follow Ohm's law with constant-current limiting.
Out-of-range values, unknown headers and settings without remote control are
refused and queued as SCPI errors (SYST:ERR?, SYST:ERR:ALL?, *STB? bit 2);
unknown queries get no answer, as real instruments do.

Dialects: "default" and "ea" (Elektro-Automatik) need SYST:LOCK ON before
settings; "ea" has one output and no INST:NSEL; "rs" (Rohde & Schwarz) has no
lock, no SYST:ERR:ALL? and no nominal values, and uses VOLT:ALIM / CURR:ALIM.

Control on stdin, one JSON object per line; events on stdout:
  first line {"ready": true, "port": N}  (serial: "port": null)
  {"op": "state"} -> {"ok": "state", "state": {...}}
  {"op": "exit"}
"""
import json
import re
import socket
import sys
import threading

NOMINAL = {"voltage": 60.0, "current": 20.0, "power": 600.0}


def emit(event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


class ScpiError(Exception):
    def __init__(self, code, text):
        super().__init__(f'{code},"{text}"')
        self.entry = f'{code},"{text}"'


def fresh_channel():
    return {
        "voltage": 0.0,
        "current": 0.0,
        "power": NOMINAL["power"],
        "voltage_limit_low": 0.0,
        "voltage_limit_high": NOMINAL["voltage"],
        "current_limit_low": 0.0,
        "current_limit_high": NOMINAL["current"],
        "power_limit_high": NOMINAL["power"],
        "output": False,
    }


def compile_header(pattern):
    """'[SOURce:]VOLTage:LIMit:LOW' -> [(long, short, optional), ...]"""
    tokens = []
    for part in re.findall(r"\[:?([A-Za-z*]+):?\]|:?([A-Za-z*]+)", pattern):
        word = part[0] or part[1]
        short = "".join(c for c in word if c.isupper() or c == "*") or word
        tokens.append((word.upper(), short.upper(), bool(part[0])))
    return tokens


def header_matches(tokens, words):
    if not tokens:
        return not words
    long, short, optional = tokens[0]
    if words and words[0] in (long, short) and header_matches(tokens[1:], words[1:]):
        return True
    return optional and header_matches(tokens[1:], words)


class Supply:
    def __init__(self, dialect, channels, idn, load_ohms):
        self.dialect = dialect
        self.channel_count = 1 if dialect == "ea" else channels
        self.idn = idn
        self.load_ohms = load_ohms
        self.lock = threading.Lock()
        self.reset()
        self.errors = []
        self.commands = []
        self._table()

    def reset(self):
        self.channels = [fresh_channel() for _ in range(self.channel_count)]
        self.selected = 0
        self.remote = False

    # ---- the command table ------------------------------------------------
    def _table(self):
        add = self.commands.append
        add(("*IDN", self.q(lambda: self.idn), None))
        add(("*RST", None, lambda arg: self.reset()))
        add(("*CLS", None, lambda arg: self.errors.clear()))
        add(("*STB", self.q(lambda: str(4 if self.errors else 0)), None))
        add(("*TST", self.q(lambda: "0"), None))
        add(("*OPC", self.q(lambda: "1"), None))
        add(("SYSTem:ERRor[:NEXT]", self.q(self.next_error), None))
        if self.dialect != "rs":
            add(("SYSTem:ERRor:ALL", self.q(self.all_errors), None))
            add(("SYSTem:LOCK[:STATe]", None, self.set_lock))
            add(("SYSTem:LOCK:OWNer", self.q(lambda: "REMOTE" if self.remote else "NONE"), None))
            for key, node in (("voltage", "VOLTage"), ("current", "CURRent"), ("power", "POWer")):
                add((f"SYSTem:NOMinal:{node}", self.q(lambda key=key: self.fmt(NOMINAL[key])), None))
        if self.dialect != "ea":
            add(("INSTrument:NSELect", self.q(lambda: str(self.selected + 1)), self.select_channel))
        add(("OUTPut[:STATe]", self.q(lambda: "ON" if self.ch["output"] else "OFF"), self.set_output))
        add(("MEASure[:SCALar]:VOLTage[:DC]", self.q(lambda: self.fmt(self.measure()[0])), None))
        add(("MEASure[:SCALar]:CURRent[:DC]", self.q(lambda: self.fmt(self.measure()[1])), None))
        add(("MEASure[:SCALar]:POWer[:DC]", self.q(lambda: self.fmt(self.measure()[0] * self.measure()[1])), None))
        add(("[SOURce:]VOLTage[:LEVel][:IMMediate][:AMPLitude]", self.getter("voltage"), self.setter("voltage")))
        add(("[SOURce:]CURRent[:LEVel][:IMMediate][:AMPLitude]", self.getter("current"), self.setter("current")))
        if self.dialect != "rs":
            add(("[SOURce:]POWer[:LEVel][:IMMediate][:AMPLitude]", self.getter("power"), self.setter("power")))
            add(("[SOURce:]VOLTage:LIMit:LOW", self.getter("voltage_limit_low"), self.setter("voltage_limit_low")))
            add(("[SOURce:]VOLTage:LIMit:HIGH", self.getter("voltage_limit_high"), self.setter("voltage_limit_high")))
            add(("[SOURce:]CURRent:LIMit:LOW", self.getter("current_limit_low"), self.setter("current_limit_low")))
            add(("[SOURce:]CURRent:LIMit:HIGH", self.getter("current_limit_high"), self.setter("current_limit_high")))
            add(("[SOURce:]POWer:LIMit:HIGH", self.getter("power_limit_high"), self.setter("power_limit_high")))
        else:
            add(("[SOURce:]VOLTage:ALIMit:LOWer", self.getter("voltage_limit_low"), self.setter("voltage_limit_low")))
            add(("[SOURce:]VOLTage:ALIMit[:UPPer]", self.getter("voltage_limit_high"), self.setter("voltage_limit_high")))
            add(("[SOURce:]CURRent:ALIMit:LOWer", self.getter("current_limit_low"), self.setter("current_limit_low")))
            add(("[SOURce:]CURRent:ALIMit[:UPPer]", self.getter("current_limit_high"), self.setter("current_limit_high")))
        self.commands = [(compile_header(pattern), query, write) for pattern, query, write in self.commands]

    @staticmethod
    def q(answer):
        return lambda: answer()

    @property
    def ch(self):
        return self.channels[self.selected]

    @staticmethod
    def fmt(value):
        return f"{value:.3f}"

    def getter(self, key):
        return lambda: self.fmt(self.ch[key])

    def setter(self, key):
        def write(arg):
            self.protected()
            value = self.number(arg)
            low, high = self.range_of(key)
            if not (low <= value <= high):
                raise ScpiError(-222, "Data out of range")
            self.ch[key] = value

        return write

    def range_of(self, key):
        ch = self.ch
        quantity = key.split("_")[0]
        if key in ("voltage", "current"):
            return ch[f"{key}_limit_low"], ch[f"{key}_limit_high"]
        if key == "power":
            return 0.0, ch["power_limit_high"]
        if key.endswith("_low"):
            return 0.0, ch[f"{quantity}_limit_high"]
        if key.endswith("_high") and quantity != "power":
            return ch[f"{quantity}_limit_low"], NOMINAL[quantity]
        return 0.0, NOMINAL["power"]

    def protected(self):
        if self.dialect != "rs" and not self.remote:
            raise ScpiError(-203, "Command protected; SYST:LOCK ON first")

    @staticmethod
    def number(arg):
        try:
            return float(arg)
        except (TypeError, ValueError):
            raise ScpiError(-104, "Data type error")

    @staticmethod
    def switch(arg):
        word = (arg or "").strip().upper()
        if word in ("ON", "1"):
            return True
        if word in ("OFF", "0"):
            return False
        raise ScpiError(-224, "Illegal parameter value")

    def set_lock(self, arg):
        self.remote = self.switch(arg)

    def set_output(self, arg):
        self.protected()
        self.ch["output"] = self.switch(arg)

    def select_channel(self, arg):
        value = self.number(arg)
        if value != int(value) or not (1 <= value <= self.channel_count):
            raise ScpiError(-222, "Data out of range")
        self.selected = int(value) - 1

    def measure(self):
        ch = self.ch
        if not ch["output"]:
            return 0.0, 0.0
        voltage = ch["voltage"]
        current = voltage / self.load_ohms
        if current > ch["current"]:
            current = ch["current"]
            voltage = current * self.load_ohms
        return voltage, current

    def next_error(self):
        return self.errors.pop(0) if self.errors else '0,"No error"'

    def all_errors(self):
        entries = self.errors or ['0,"No error"']
        self.errors = []
        return ",".join(entries)

    # ---- one line of input --------------------------------------------------
    def handle_line(self, line):
        """The answers (possibly none) to one input line."""
        answers = []
        with self.lock:
            for command in line.split(";"):
                command = command.strip()
                if not command:
                    continue
                header, _, arg = command.partition(" ")
                is_query = header.endswith("?")
                words = header.rstrip("?").lstrip(":").upper().split(":")
                entry = next((e for e in self.commands if header_matches(e[0], words)), None)
                handler = None if entry is None else (entry[1] if is_query else entry[2])
                if handler is None:
                    self.errors.append('-113,"Undefined header"')
                    continue
                try:
                    answer = handler() if is_query else handler(arg.strip() or None)
                except ScpiError as error:
                    self.errors.append(error.entry)
                    continue
                if is_query:
                    answers.append(answer)
        return answers

    def state(self):
        with self.lock:
            return {"dialect": self.dialect, "remote": self.remote, "selected": self.selected + 1, "channels": self.channels, "errors": list(self.errors)}


class LineSplitter:
    def __init__(self):
        self.buffer = b""

    def feed(self, data):
        self.buffer += data
        *lines, self.buffer = self.buffer.split(b"\n")
        return [line.decode("latin1").strip("\r") for line in lines]


def serve_tcp(supply, listener):
    while True:
        try:
            client, _ = listener.accept()
        except OSError:
            return
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        splitter = LineSplitter()
        with client:
            while True:
                try:
                    data = client.recv(4096)
                except OSError:
                    break
                if not data:
                    break
                for line in splitter.feed(data):
                    for answer in supply.handle_line(line):
                        client.sendall((answer + "\n").encode("latin1"))


def serve_serial(supply, link):
    splitter = LineSplitter()
    while True:
        try:
            data = link.read(4096)
        except Exception:
            return
        if not data:
            continue
        for line in splitter.feed(data):
            for answer in supply.handle_line(line):
                link.write((answer + "\n").encode("latin1"))
                link.flush()


def main():
    args = sys.argv[1:]

    def option(name, default=None):
        return args[args.index(name) + 1] if name in args else default

    supply = Supply(option("--dialect", "default"), int(option("--channels", "1")), option("--idn", "kiso,SCPI-PSU-SIM,SIM0001,1.0"), float(option("--load-ohms", "10")))
    if "--tcp" in args:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", int(option("--tcp"))))
        listener.listen(1)
        threading.Thread(target=serve_tcp, args=(supply, listener), daemon=True).start()
        emit({"ready": True, "port": listener.getsockname()[1]})
    elif "--serial" in args:
        import serial

        try:
            link = serial.Serial(option("--serial"), baudrate=int(option("--baudrate", "115200")), timeout=0.05)
        except Exception as error:
            emit({"error": f"cannot open {option('--serial')}: {error}"})
            return 1
        threading.Thread(target=serve_serial, args=(supply, link), daemon=True).start()
        emit({"ready": True, "port": None})
    else:
        emit({"error": "usage: scpi_instrument_sim.py (--tcp PORT | --serial PATH) [--dialect default|ea|rs]"})
        return 2
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        command = json.loads(line)
        if command.get("op") == "exit":
            break
        if command.get("op") == "state":
            emit({"ok": "state", "state": supply.state()})
        else:
            emit({"error": f"unknown op {command.get('op')!r}"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
