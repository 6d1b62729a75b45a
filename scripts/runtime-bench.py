#!/usr/bin/env python3
"""Measures tako-server's runtime (not its proxy): cold-start overhead over the app's own
boot, time to notice a crashed and a hung instance, and a 3-instance rolling deploy apart
from app boot. Uses the real binary, the test fixture app and loopback only; every wait is
bounded. Prints a markdown section on stdout.

Usage: runtime-bench.py PATH/TO/tako-server
"""
import json, os, re, shutil, socket, statistics, subprocess, sys, tempfile, time

BIN = sys.argv[1]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(ROOT, "Tests/TakoServerTests/Fixtures/app.py")
ROUNDS = int(os.environ.get("RUNTIME_ROUNDS", "5"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port, host, path="/", timeout=60):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0


def wait(what, condition, timeout=60, step=0.002):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(step)
    raise SystemExit(f"runtime-bench: timed out waiting until {what}")


class Server:
    def __init__(self, directory):
        self.dir = directory
        self.socket = os.path.join(directory, "tako.sock")
        config = os.path.join(directory, "server-config.toml")
        with open(config, "w") as f:
            f.write(f'[server]\nhttp_port = 0\nhttps_port = 0\nlisten = "127.0.0.1"\n'
                    f'data_dir = "{directory}/data"\nsocket = "{self.socket}"\nstart_timeout = 30\ndrain_timeout = 5\n')
        self.log = open(os.path.join(directory, "server.log"), "w")
        self.process = subprocess.Popen([BIN, "--config", config], stderr=subprocess.PIPE, stdout=self.log)
        line = self.process.stderr.readline().decode()
        # "... http://127.0.0.1:PORT and https://127.0.0.1:PORT, ..." (the HTTPS part since
        # the server got its TLS listener): the HTTP port is the digits after the first one.
        self.port = int(re.match(r"\d+", line.split("http://127.0.0.1:")[1]).group(0))

    def ctl(self, *args, check=True):
        result = subprocess.run([BIN, "ctl", *args, "--socket", self.socket], capture_output=True, text=True, timeout=300)
        if check and result.returncode != 0:
            raise SystemExit(f"runtime-bench: ctl {' '.join(args)} failed: {result.stderr}")
        return json.loads(result.stdout) if result.stdout.strip() else {}

    def instances(self, app):
        return self.ctl("status", app)["apps"][0]["instances"]

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=60)


def release(directory, name):
    path = os.path.join(directory, "releases", name)
    os.makedirs(path, exist_ok=True)
    shutil.copy(FIXTURE, os.path.join(path, "main.py"))
    return path


def own_boot(path):
    """The app alone: spawn to first HTTP answer."""
    port = free_port()
    start = time.monotonic()
    process = subprocess.Popen([sys.executable, "main.py"], cwd=path, stdout=subprocess.DEVNULL,
                               env={**os.environ, "PORT": str(port), "HOST": "127.0.0.1"})
    def answers():
        try:
            return http_get(port, "x", "/_tako/status", timeout=1) == 200
        except OSError:
            return False
    wait("the app answers", answers, step=0.0005)
    elapsed = time.monotonic() - start
    process.kill()
    process.wait()
    return elapsed


def stamp(line):
    """The time of a log line (`2026-11-25T21:00:00.123Z ...`), as a Unix timestamp."""
    import calendar
    return calendar.timegm(time.strptime(line[:19], "%Y-%m-%dT%H:%M:%S")) + float(line[19:23])


def ms(seconds):
    return f"{seconds * 1000:.0f} ms"


def main():
    directory = tempfile.mkdtemp(prefix="tako-runtime-bench-")
    server = Server(directory)
    rows = []
    try:
        path = release(directory, "v1")
        boots = [own_boot(path) for _ in range(ROUNDS)]
        boot = statistics.median(boots)

        # Cold start: an idle on-demand app, one request.
        server.ctl("deploy", "lazy", "--version", "v1", "--release", path, "--route", "lazy.test",
                   "--instances", "0", "--idle-timeout", "1")
        colds = []
        for _ in range(ROUNDS):
            wait("the app is idle", lambda: not server.instances("lazy"), timeout=30, step=0.05)
            start = time.monotonic()
            status = http_get(server.port, "lazy.test")
            colds.append(time.monotonic() - start)
            assert status == 200, status
        cold = statistics.median(colds)
        rows.append(("app's own boot (spawn to first answer, median)", ms(boot)))
        rows.append(("first request to an idle on-demand app (median)", ms(cold)))
        rows.append(("**cold-start overhead** (difference)", ms(cold - boot)))

        # A crashed instance: from the kill to the server's log line about it (its own clock).
        server.ctl("deploy", "web", "--version", "v1", "--release", path, "--route", "web.test", "--instances", "1")
        notices, recovery = [], None
        web_log = os.path.join(directory, "data/apps/web/shared/logs/current.log")
        for round in range(ROUNDS):
            before = server.instances("web")[0]
            killed_at = time.time()
            start = time.monotonic()
            os.kill(before["pid"], 9)
            marker = f"[instance 1 tako] was killed by signal 9"
            wait("the crash is logged", lambda: sum(marker in line for line in open(web_log)) > round, step=0.005)
            noticed = [stamp(line) for line in open(web_log) if marker in line][round]
            notices.append(noticed - killed_at)
            wait("a new process serves", lambda: server.instances("web")[0]["state"] == "healthy", timeout=120)
            if recovery is None:
                recovery = time.monotonic() - start
        rows.append(("crashed instance noticed and out of the balancer (kill -9 to the server's log line, median)", ms(statistics.median(notices))))
        rows.append(("crashed instance serving again (first crash: 1 s backoff + boot)", ms(recovery)))

        # A hung instance (its health check stops answering).
        server.ctl("deploy", "hung", "--version", "v1", "--release", path, "--route", "hung.test", "--instances", "1",
                   "--var", "HANG_HEALTH_AFTER=1")
        pid = server.instances("hung")[0]["pid"]
        wait("the hung instance is restarted", lambda: server.instances("hung")[0].get("pid") not in (None, pid), timeout=60, step=0.05)
        # Timed from the app log's own timestamps: when the app started hanging, when the
        # server took it out of the balancer, when it restarted it.
        stamps = {}
        with open(os.path.join(directory, "data/apps/hung/shared/logs/current.log")) as log:
            for line in log:
                for key, marker in (("hang", "health check hangs from now"), ("out", "tako] unhealthy"),
                                    ("restart", "health checks in a row; restarting it")):
                    if marker in line and key not in stamps:
                        stamps[key] = stamp(line)
        rows.append(("hung instance out of the balancer (from its first unanswered probe)", ms(stamps["out"] - stamps["hang"])))
        rows.append(("hung instance restarted (from its first unanswered probe)", ms(stamps["restart"] - stamps["hang"])))

        # A rolling deploy of 3 instances.
        path2 = release(directory, "v2")
        server.ctl("deploy", "roll", "--version", "v1", "--release", path, "--route", "roll.test", "--instances", "3")
        durations = []
        for round in range(ROUNDS):
            start = time.monotonic()
            server.ctl("deploy", "roll", "--version", f"v{round + 2}", "--release", path2 if round % 2 == 0 else path,
                       "--route", "roll.test", "--instances", "3")
            durations.append(time.monotonic() - start)
        rolling = statistics.median(durations)
        rows.append(("3-instance rolling deploy (median)", ms(rolling)))
        rows.append(("**3-instance rolling deploy apart from app boot** (minus 3 boots)", ms(rolling - 3 * boot)))
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)

    print("## Runtime\n")
    print(f"Written by `make bench` ({time.strftime('%Y-%m-%d', time.gmtime())}): scripts/runtime-bench.py with the release")
    print(f"`tako-server` and the test fixture app (Python), {ROUNDS} rounds each, on this machine.\n")
    print("| measurement | time |")
    print("|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
