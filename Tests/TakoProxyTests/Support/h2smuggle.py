#!/usr/bin/python3
"""Sends one HTTP/2 request that a strict server must refuse, with hyper-h2's own checks off
(Debian's python3-h2, hence /usr/bin/python3); prints one JSON line: the response status or
the reset/GOAWAY the server sent.

  h2smuggle.py CASE HOST PORT CAFILE
"""
import json, socket, ssl, sys
import h2.config, h2.connection, h2.events

case, host, port, cafile = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
base = [(":method", "POST"), (":scheme", "https"), (":authority", host), (":path", "/a")]
smuggled = b"GET /smuggled HTTP/1.1\r\nHost: " + host.encode() + b"\r\n\r\n"
cases = {
    # Well-formed: proves the probe itself gets through.
    "control": (base + [("content-length", "1")], b"x"),
    # RFC 9113 8.2.2: connection-specific fields make a request malformed.
    "transfer-encoding": (base + [("transfer-encoding", "chunked")], b"0\r\n\r\n" + smuggled),
    "connection": (base + [("connection", "keep-alive")], b""),
    # More DATA than content-length says (8.1.1).
    "content-length": (base + [("content-length", "1")], b"x" + smuggled),
    # Field values may not hold CR, LF or NUL (8.2.1).
    "crlf-value": (base + [("x-test", "a\r\nGET /smuggled HTTP/1.1")], b""),
    # Field names are lower-case tokens (8.2.1).
    "uppercase-name": (base + [("X-Test", "a")], b""),
    # A :path that would read as a request line over HTTP/1.1.
    "space-in-path": ([(":method", "GET"), (":scheme", "https"), (":authority", host),
                       (":path", "/a HTTP/1.1\r\nHost: x\r\n\r\nGET /smuggled")], b""),
}
headers, body = cases[case]

context = ssl.create_default_context(cafile=cafile)
context.set_alpn_protocols(["h2"])
conn = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname=host)
config = h2.config.H2Configuration(client_side=True, validate_outbound_headers=False,
                                   normalize_outbound_headers=False, validate_inbound_headers=False)
h2c = h2.connection.H2Connection(config=config)
h2c.initiate_connection()
h2c.send_headers(1, headers, end_stream=not body)
if body:
    h2c.send_data(1, body, end_stream=True)
conn.sendall(h2c.data_to_send())
result = {"case": case}
try:
    while "status" not in result and "reset" not in result and "goaway" not in result:
        data = conn.recv(65536)
        if not data:
            result["closed"] = True
            break
        for event in h2c.receive_data(data):
            if isinstance(event, h2.events.ResponseReceived):
                result["status"] = int(dict(event.headers)[b":status"])
            elif isinstance(event, h2.events.StreamReset):
                result["reset"] = event.error_code
            elif isinstance(event, h2.events.ConnectionTerminated):
                result["goaway"] = event.error_code
        conn.sendall(h2c.data_to_send())
except Exception as error:  # a server that tears the connection down answers too
    result["error"] = type(error).__name__
print(json.dumps(result))
