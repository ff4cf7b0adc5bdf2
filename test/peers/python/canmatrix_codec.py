"""canmatrix (Debian python3-canmatrix) as the independent DBC implementation
kiso's codec is checked against.

Reads one JSON request on stdin:
  {"dbc": path,
   "encode": [{"message": name, "raw": {signal: "raw value as text"}}],
   "decode": [{"message": name, "data": "hex"}]}
and prints one JSON answer: the database as canmatrix reads it, the bytes
canmatrix encodes from raw values, and the raw/physical/named values it
decodes. Numbers travel as text so 64-bit integers and Decimals stay exact.
"""
import contextlib
import decimal
import json
import sys

# canmatrix prints notes ("ldf is not supported") on stdout: keep stdout for the answer.
with contextlib.redirect_stdout(sys.stderr):
    import canmatrix.formats


def number_text(value):
    if isinstance(value, float):
        return repr(value)
    return str(value)


def describe_database(db):
    frames = []
    for frame in db.frames:
        signals = []
        for signal in frame.signals:
            signals.append({
                "name": signal.name,
                "size": signal.size,
                "is_little_endian": bool(signal.is_little_endian),
                "is_signed": bool(signal.is_signed),
                "is_float": bool(signal.is_float),
                "factor": number_text(signal.factor),
                "offset": number_text(signal.offset),
                "min": number_text(signal.min),
                "max": number_text(signal.max),
                "unit": signal.unit,
                "initial_value": number_text(signal.initial_value),
                "values": {str(k): v for k, v in signal.values.items()},
                "is_multiplexer": bool(signal.is_multiplexer),
                "mux_val": signal.mux_val,
                "muxer_for_signal": signal.muxer_for_signal,
                "mux_val_grp": [[int(a), int(b)] for a, b in signal.mux_val_grp],
                "comment": signal.comment,
            })
        frames.append({
            "name": frame.name,
            "id": frame.arbitration_id.id,
            "extended": bool(frame.arbitration_id.extended),
            "size": frame.size,
            "is_fd": bool(frame.is_fd),
            "cycle_time": int(frame.cycle_time or 0),
            "comment": frame.comment,
            "signals": signals,
        })
    return frames


def parse_raw(signal, text):
    if signal.is_float:
        return float(text)
    return int(text)


def main():
    request = json.load(sys.stdin)
    with contextlib.redirect_stdout(sys.stderr):
        db = canmatrix.formats.loadp_flat(request["dbc"])
    answer = {"frames": describe_database(db), "encoded": [], "decoded": []}
    for item in request.get("encode", []):
        frame = db.frame_by_name(item["message"])
        values = {}
        for name, text in item["raw"].items():
            values[name] = parse_raw(frame.signal_by_name(name), text)
        try:
            answer["encoded"].append({"ok": bytes(frame.encode(values)).hex()})
        except Exception as error:  # noqa: BLE001 - reported to the test
            answer["encoded"].append({"error": f"{type(error).__name__}: {error}"})
    for item in request.get("decode", []):
        frame = db.frame_by_name(item["message"])
        try:
            decoded = frame.decode(bytearray.fromhex(item["data"]))
            answer["decoded"].append({"ok": {
                name: {
                    "raw": number_text(value.raw_value),
                    "phys": number_text(value.phys_value),
                    "named": number_text(value.named_value) if not isinstance(value.named_value, str) else value.named_value,
                }
                for name, value in decoded.items()
            }})
        except Exception as error:  # noqa: BLE001 - reported to the test
            answer["decoded"].append({"error": f"{type(error).__name__}: {error}"})
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    decimal.getcontext().prec = 60
    main()
