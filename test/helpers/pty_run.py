"""Runs a command on a pseudo-terminal and answers its prompts: a real TTY for kiso's operator prompts.

usage: pty_run.py ANSWERS_JSON -- COMMAND...
ANSWERS_JSON: a list of [text_to_wait_for, reply] pairs, answered in order.
Prints everything the command wrote; exits with its exit code.
"""

import json
import os
import pty
import select
import sys
import time

answers = json.loads(sys.argv[1])
command = sys.argv[sys.argv.index("--") + 1 :]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(command[0], command)

seen = b""
deadline = time.time() + 60
while True:
    if time.time() > deadline:
        os.kill(pid, 9)
        break
    ready, _, _ = select.select([fd], [], [], 0.1)
    if ready:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
        sys.stdout.buffer.write(chunk)
        sys.stdout.flush()
    while answers and answers[0][0].encode() in seen:
        wait_for, reply = answers.pop(0)
        seen = seen.split(wait_for.encode(), 1)[1]
        os.write(fd, (reply + "\r").encode())
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
