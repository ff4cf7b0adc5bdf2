"""pykiso.auxiliaries: the station's auxiliaries by name, as pykiso offers them.

`from pykiso.auxiliaries import aux1` gives a proxy of kiso's auxiliary
`aux1`: each method call (send_message, receive_message, ...) is a call over
kiso's channel to the real auxiliary, which keeps running in kiso.
"""

import json
import os
import sys

from pykiso._proxy import AuxiliaryProxy

_NAMES = json.loads(os.environ.get("KISO_AUXILIARIES", "{}"))

for _name, _type in _NAMES.items():
    setattr(sys.modules[__name__], _name, AuxiliaryProxy(_name, _type))


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    known = ", ".join(sorted(_NAMES)) or "none"
    raise ImportError(f"the station has no auxiliary named {name!r} (auxiliaries: {known})")


def __dir__():
    return sorted(_NAMES)
