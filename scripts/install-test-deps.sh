#!/usr/bin/env bash
# Installs the Debian packages the real-peer tests talk to, when missing:
# socat (pseudo-terminal pairs), python3-can and python3-serial (peers on the
# far side of CAN and serial links), python3-canmatrix (DBC reference),
# tshark (ISO-TP/UDS decoding) and wireshark-common's capinfos (pcap time
# order), can-utils (log2asc reads candump traces), chromium (HTML report check),
# xmllint from libxml2-utils (JUnit against Jenkins' schema), python3-junitparser
# (a JUnit reader), postgresql (the fleet store's tests start their own server).
# Tests whose peer is still missing afterwards say so and skip.
set -uo pipefail

missing=()
command -v socat >/dev/null 2>&1 || missing+=(socat)
/usr/bin/python3 -c "import can" >/dev/null 2>&1 || missing+=(python3-can)
/usr/bin/python3 -c "import msgpack" >/dev/null 2>&1 || missing+=(python3-msgpack)
/usr/bin/python3 -c 'import serial' >/dev/null 2>&1 || missing+=(python3-serial)
/usr/bin/python3 -c 'import canmatrix' >/dev/null 2>&1 || missing+=(python3-canmatrix)
command -v tshark >/dev/null 2>&1 || missing+=(tshark)
command -v capinfos >/dev/null 2>&1 || missing+=(wireshark-common)
command -v log2asc >/dev/null 2>&1 || missing+=(can-utils)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v xmllint >/dev/null 2>&1 || missing+=(libxml2-utils)
/usr/bin/python3 -c 'import junitparser' >/dev/null 2>&1 || missing+=(python3-junitparser)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)

if [ ${#missing[@]} -eq 0 ]; then
  echo "test peers: all installed"
  exit 0
fi

echo "test peers: installing ${missing[*]}"
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "test peers: cannot install (needs root and apt-get); the tests that need them will skip" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer before installing.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
apt-get update -qq || echo "test peers: apt-get update failed" >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/kiso-apt.log 2>&1 \
  || { echo "test peers: apt-get install failed (see /tmp/kiso-apt.log); the tests that need them will skip" >&2; tail -5 /tmp/kiso-apt.log >&2; }
exit 0
