#!/usr/bin/env python3
"""Runs a command on a pseudo-terminal and plays a short dialogue with it.

usage: pty-drive.py STEPS_JSON COMMAND [ARGS...]
STEPS_JSON is a list of ["expect", text] (wait until the output contains text) and
["send", text] (type text). Prints everything the command wrote to the terminal and exits
with the command's status. Every wait is bounded; a missing prompt is exit status 124.
"""
import json
import os
import pty
import select
import sys
import time

TIMEOUT_SECONDS = 20


def main() -> int:
    steps = json.loads(sys.argv[1])
    command = sys.argv[2:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    transcript = bytearray()

    def read_some(deadline: float) -> str:
        """Reads what is there: "data", "eof" (the command closed the terminal) or "timeout"."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return "timeout"
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            return "timeout"
        try:
            data = os.read(fd, 4096)
        except OSError:
            return "eof"
        if not data:
            return "eof"
        transcript.extend(data)
        return "data"

    for kind, text in steps:
        if kind == "expect":
            deadline = time.monotonic() + TIMEOUT_SECONDS
            while text.encode() not in transcript:
                if read_some(deadline) != "data":
                    sys.stdout.buffer.write(bytes(transcript))
                    sys.stdout.buffer.write(f"\n[pty-drive: did not see {text!r}]\n".encode())
                    os.kill(pid, 9)
                    os.waitpid(pid, 0)
                    return 124
        elif kind == "send":
            os.write(fd, text.encode())
    deadline = time.monotonic() + TIMEOUT_SECONDS
    outcome = "data"
    while outcome == "data":
        outcome = read_some(deadline)
    if outcome == "timeout":
        # Still running with nothing more to say: it is waiting for input nobody will type.
        transcript.extend(b"\n[pty-drive: command did not finish]\n")
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        sys.stdout.buffer.write(bytes(transcript))
        return 124
    _, status = os.waitpid(pid, 0)
    sys.stdout.buffer.write(bytes(transcript))
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
