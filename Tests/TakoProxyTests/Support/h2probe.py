#!/usr/bin/env python3
"""Raw TLS client for the HTTP/2 tests; prints one JSON line.

  h2probe.py idle HOST PORT CAFILE   -- ALPN h2, client preface + SETTINGS, then only reads:
                                        the frame types the server sends until it closes
  h2probe.py reset HOST PORT CAFILE  -- ALPN h2: GET /bytes/5000000 on stream 1, RST_STREAM
                                        (CANCEL) after its first DATA frame, then GET
                                        /hello on stream 3 and its status and body
  h2probe.py stall HOST PORT CAFILE UPSTREAM_PORT
                                     -- ALPN h2 with an initial stream window of 0: GET
                                        /bytes/200000000 on stream 1, then, reading nothing
                                        more, how many bytes the upstream wrote by the time
                                        that count stops growing
  h2probe.py stall-post HOST PORT CAFILE UPSTREAM_PORT
                                     -- the same with a POST carrying a one-byte body, which
                                        the proxy serves on a stream channel (not relayed)
  h2probe.py ws HOST PORT CAFILE     -- ALPN http/1.1 only (as browsers open WebSockets),
                                        upgrade /ws, send bytes, read their echo
"""
import json, socket, ssl, struct, sys, time

mode, host, port, cafile = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
context = ssl.create_default_context(cafile=cafile)
context.set_alpn_protocols(["h2"] if mode in ("idle", "reset", "stall", "stall-post") else ["http/1.1"])
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

def frame(kind, flags, stream, payload=b""):
    return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") + payload

def get(stream, path):
    """HEADERS with END_STREAM and END_HEADERS; every field a literal without indexing."""
    block = b""
    for name, value in ((":method", "GET"), (":scheme", "https"), (":path", path), (":authority", host)):
        block += b"\x00" + bytes([len(name)]) + name.encode() + bytes([len(value)]) + value.encode()
    return frame(1, 0x5, stream, block)

def read_frame():
    header = read_exact(9)
    if header is None:
        return None
    length = int.from_bytes(header[:3], "big")
    return header[3], header[4], int.from_bytes(header[5:9], "big") & 0x7FFFFFFF, read_exact(length)

if mode == "reset":
    conn.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0) + get(1, "/bytes/5000000"))
    result, body = {}, b""
    while True:
        got = read_frame()
        if got is None:
            result["closed"] = True
            break
        kind, flags, stream, payload = got
        if kind == 0 and payload:  # the connection window: what stream 1 used is given back
            conn.sendall(frame(8, 0, 0, len(payload).to_bytes(4, "big")))
        if kind == 4 and not flags & 1:
            conn.sendall(frame(4, 1, 0))
        elif kind == 0 and stream == 1 and "first_data" not in result:
            result["first_data"] = len(payload)
            conn.sendall(frame(3, 0, 1, (8).to_bytes(4, "big")) + get(3, "/hello"))
        elif kind == 1 and stream == 3:
            status = payload[0]  # the proxy's HPACK encoder indexes :status 200 as 0x88
            result["status"] = 200 if status == 0x88 else f"hpack byte {status:#x}"
        elif kind == 0 and stream == 3:
            body += payload
            if flags & 1:
                result["body"] = body.decode(errors="replace")
                break
        elif kind == 3 and stream == 3 or kind == 7:
            result["refused"] = kind
            break
    print(json.dumps(result))
elif mode in ("stall", "stall-post"):
    import urllib.request
    def sent():
        return int(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[5]}/__sent", timeout=5).read())
    # SETTINGS_INITIAL_WINDOW_SIZE (4) = 0: the server may send no DATA at all.
    settings = (4).to_bytes(2, "big") + (0).to_bytes(4, "big")
    if mode == "stall":
        request = get(1, "/bytes/200000000")
    else:
        block = b""
        for name, value in ((":method", "POST"), (":scheme", "https"), (":path", "/bytes/200000000"), (":authority", host),
                            ("content-length", "1")):
            block += b"\x00" + bytes([len(name)]) + name.encode() + bytes([len(value)]) + value.encode()
        request = frame(1, 0x4, 1, block) + frame(0, 0x1, 1, b"x")
    conn.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0, settings) + request)
    result = {}
    while "status" not in result:
        got = read_frame()
        if got is None:
            result["closed"] = True
            break
        kind, flags, stream, payload = got
        if kind == 4 and not flags & 1:
            conn.sendall(frame(4, 1, 0))
        elif kind == 1 and stream == 1:
            result["status"] = 200 if payload[0] == 0x88 else f"hpack byte {payload[0]:#x}"
    # The upstream writes until something stops reading: poll until its count holds still.
    readings = [sent()]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (len(readings) >= 3 and readings[-1] == readings[-3]):
        time.sleep(0.2)
        readings.append(sent())
    result["sent"] = readings[-1]
    result["settled"] = len(readings) >= 3 and readings[-1] == readings[-3]
    print(json.dumps(result))
elif mode == "idle":
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
