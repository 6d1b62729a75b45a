"""Sends requests one after another through the proxy until STOP_FILE exists (or 120 s pass),
then writes one JSON line to RESULT_FILE: {"total": N, "codes": {"200": N, ...}, "errors": N}.
Usage: load.py PORT HOST STOP_FILE RESULT_FILE"""
import http.client, json, os, sys, time

port, host, stop_file, result_file = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
codes, errors, total = {}, 0, 0
deadline = time.time() + 120
print("started", flush=True)
connection = None
while not os.path.exists(stop_file) and time.time() < deadline:
    try:
        if connection is None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/", headers={"Host": host})
        response = connection.getresponse()
        response.read()
        codes[str(response.status)] = codes.get(str(response.status), 0) + 1
        if response.getheader("Connection", "").lower() == "close":
            connection.close()
            connection = None
    except Exception as error:
        errors += 1
        print(f"error: {error!r}", file=sys.stderr, flush=True)
        connection = None
    total += 1
with open(result_file + ".tmp", "w") as out:
    out.write(json.dumps({"total": total, "codes": codes, "errors": errors}) + "\n")
os.rename(result_file + ".tmp", result_file)
