#!/usr/bin/env python3
"""Runs one command in a guest through its multivm agent socket
(docs/agent.md), for guests that no multivm system runs (the bare QEMU
guests of bench/tcp.sh). Usage: agent_exec.py SOCKET TIMEOUT CMD
Prints the command's output; exits with its status (255: no answer)."""
import os
import socket
import sys
import time

MAGIC = b"MVA1 "


def frame(kind, nonce, payload=b""):
    return MAGIC + b"%s %s %d\n" % (kind, nonce, len(payload)) + payload


def main():
    path, timeout, cmd = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    deadline = time.monotonic() + timeout
    nonce = os.urandom(6).hex().encode()
    while True:  # the guest may still be booting: ping until it answers
        left = deadline - time.monotonic()
        if left <= 0:
            sys.exit(255)
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(min(left, 1.0))
            s.connect(path)
            s.sendall(frame(b"P", nonce))
            buf = b""
            while b"\n" not in buf:
                d = s.recv(4096)
                if not d:
                    raise OSError("closed")
                buf += d
            if buf.startswith(MAGIC + b"R " + nonce):
                break
        except OSError:
            pass
        s.close()
        time.sleep(0.5)
    s.settimeout(max(deadline - time.monotonic(), 0.1))
    s.sendall(frame(b"X", nonce, cmd.encode()))
    buf = b""
    out = sys.stdout.buffer
    while True:
        while True:
            nl = buf.find(b"\n")
            if nl < 0:
                break
            head = buf[:nl].split(b" ")
            if len(head) != 4 or head[0] != b"MVA1":
                buf = buf[nl + 1:]
                continue
            n = int(head[3])
            if len(buf) < nl + 1 + n:
                break
            payload = buf[nl + 1:nl + 1 + n]
            buf = buf[nl + 1 + n:]
            if head[2] != nonce:
                continue
            if head[1] == b"O":
                out.write(payload)
            elif head[1] == b"E":
                out.flush()
                sys.exit(int(payload))
        d = s.recv(65536)
        if not d:
            sys.exit(255)
        buf += d


main()
