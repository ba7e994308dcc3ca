"""Runs a command on a pseudo-terminal, as a person at a terminal would: waits for a
prompt, types an answer, and prints everything the terminal showed; exits with the
command's status.

    python answer.py PROMPT ANSWER -- COMMAND [ARG...]
"""

import os
import pty
import re
import select
import subprocess
import sys
import time

prompt, answer = sys.argv[1], sys.argv[2]
assert sys.argv[3] == "--"
command = sys.argv[4:]

master, slave = pty.openpty()
proc = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
os.close(slave)

screen = b""
answered = False
deadline = time.time() + 600
while time.time() < deadline:
    ready, _, _ = select.select([master], [], [], 0.2)
    if ready:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the command closed the terminal
            break
        if not chunk:
            break
        screen += chunk
    if not answered and prompt.encode() in screen:
        os.write(master, answer.encode() + b"\n")
        answered = True
    if not ready and proc.poll() is not None:
        break
status = proc.wait(timeout=60)
text = screen.decode("utf-8", "replace").replace("\r", "")
# What a person reads: colours and cursor movements of progress bars removed.
print(re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text))
print(f"[answered: {answered}]")
sys.exit(status)
