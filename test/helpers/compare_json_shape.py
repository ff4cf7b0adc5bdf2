"""Compares a JSON document with a reference; prints the differences as a JSON list.

The reference holds exact values, or a placeholder for what changes from run
to run: "<int>", "<str>", "<bool>", "<any>", or alternatives ("<str|null>").
Objects must have the same keys, lists the same length. Standard library only,
so Debian's /usr/bin/python3 runs it.
"""
import json
import sys

TYPES = {"int": int, "str": str, "bool": bool, "float": float, "null": type(None), "list": list, "dict": dict}


def compare(ref, got, where, out):
    names = ref[1:-1].split("|") if isinstance(ref, str) and ref.startswith("<") and ref.endswith(">") else []
    if names and all(n in TYPES or n == "any" for n in names):
        if "any" in names:
            return
        ok = any(isinstance(got, TYPES[n]) and not (n == "int" and isinstance(got, bool)) for n in names)
        if not ok:
            out.append(f"{where}: expected {ref}, got {json.dumps(got)}")
        return
    if isinstance(ref, dict):
        if not isinstance(got, dict):
            out.append(f"{where}: expected an object, got {json.dumps(got)}")
            return
        for key in sorted(set(ref) - set(got)):
            out.append(f"{where}.{key}: missing")
        for key in sorted(set(got) - set(ref)):
            out.append(f"{where}.{key}: not in the reference")
        for key in ref:
            if key in got:
                compare(ref[key], got[key], f"{where}.{key}", out)
        return
    if isinstance(ref, list):
        if not isinstance(got, list) or len(got) != len(ref):
            out.append(f"{where}: expected a list of {len(ref)}, got {json.dumps(got)[:200]}")
            return
        for index, (r, g) in enumerate(zip(ref, got)):
            compare(r, g, f"{where}[{index}]", out)
        return
    if ref != got or type(ref) is not type(got):
        out.append(f"{where}: expected {json.dumps(ref, ensure_ascii=False)}, got {json.dumps(got, ensure_ascii=False)}")


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        ref = json.load(f)
    with open(sys.argv[2], encoding="utf-8") as f:
        got = json.load(f)
    out = []
    compare(ref, got, "$", out)
    print(json.dumps(out))


main()
