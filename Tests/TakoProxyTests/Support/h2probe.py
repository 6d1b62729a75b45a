#!/usr/bin/env python3
"""Raw TLS client for the HTTP/2 tests; prints one JSON line.

  h2probe.py idle HOST PORT CAFILE   -- ALPN h2, client preface + SETTINGS, then only reads:
                                        the frame types the server sends until it closes
  h2probe.py ws HOST PORT CAFILE     -- ALPN http/1.1 only (as browsers open WebSockets),
                                        upgrade /ws, send bytes, read their echo
"""
import json, socket, ssl, struct, sys, time

mode, host, port, cafile = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
context = ssl.create_default_context(cafile=cafile)
context.set_alpn_protocols(["h2"] if mode == "idle" else ["http/1.1"])
raw = socket.create_connection(("127.0.0.1", port), timeout=10)
conn = context.wrap_socket(raw, server_hostname=host)
started = time.monotonic()

def read_exact(n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data

if mode == "idle":
    conn.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + struct.pack(">I", 0)[1:] + b"\x04\x00" + b"\x00\x00\x00\x00")
    frames = []
    try:
        while True:
            header = read_exact(9)
            if header is None:
                break
            length = int.from_bytes(header[:3], "big")
            kind, flags = header[3], header[4]
            read_exact(length)
            frames.append(kind)
            if kind == 4 and not flags & 1:  # acknowledge the server's SETTINGS
                conn.sendall(b"\x00\x00\x00\x04\x01\x00\x00\x00\x00")
    except (ConnectionError, ssl.SSLError, socket.timeout) as error:
        frames.append(str(error))
    print(json.dumps({"alpn": conn.selected_alpn_protocol(), "frames": frames,
                      "seconds": round(time.monotonic() - started, 3)}))
else:
    conn.sendall((f"GET /ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = conn.recv(4096)
        if not chunk:
            break
        head += chunk
    status = head.split(b"\r\n", 1)[0].decode(errors="replace")
    rest = head.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in head else b""
    payload = b"tunnelled over TLS"
    conn.sendall(payload)
    echo = rest
    while len(echo) < len(payload):
        chunk = conn.recv(4096)
        if not chunk:
            break
        echo += chunk
    print(json.dumps({"alpn": conn.selected_alpn_protocol(), "status": status, "echo": echo.decode(errors="replace")}))
