"""The production shape as separate processes, for tests that kill, freeze and restart its parts:
a redis-server and a PostgreSQL cluster of their own (never the machine's shared ones), gunicorn,
`flask jobs worker` and `flask jobs cron`, each started, stopped, killed or frozen on demand."""
import glob
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.fixtures.app import PROJECT_ROOT
from tests.support.shopify_webhooks import signed_headers

REDIS_PORTS = range(6391, 6400)
POSTGRES_PORTS = range(5441, 5450)


def free_port(candidates=None) -> int:
    """A port nothing listens on (from `candidates` when given)."""
    for port in candidates or [0]:
        with socket.socket() as sock:
            # As the servers bind: a port whose last connections are in TIME_WAIT (a server killed
            # by an earlier test) is free for them, and must count as free here.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError(f"no free port in {candidates}")


def wait_for_port(port: int, seconds: float = 20.0) -> None:
    """Return once something accepts connections on the port."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port} after {seconds} s")


class Process:
    """A child process in its own process group (a signal reaches its forks too), logging to a file."""

    def __init__(self, name: str, argv: list[str], env: dict, logs: Path):
        self.name, self.argv, self.env = name, argv, env
        self.log_path = logs / f"{name}.log"
        self.popen: subprocess.Popen | None = None

    def start(self) -> "Process":
        log = open(self.log_path, "ab")
        self.popen = subprocess.Popen(self.argv, env=self.env, cwd=PROJECT_ROOT, stdout=log,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        return self

    def signal(self, sig: int) -> None:
        """Send `sig` to the whole group (a worker and its work-horse)."""
        try:
            os.killpg(self.popen.pid, sig)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        """SIGKILL the group and reap it."""
        self.signal(signal.SIGKILL)
        self.popen.wait(10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        if self.popen is None or self.popen.poll() is not None:
            return
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def tail(self, lines: int = 40) -> str:
        """The end of its log (for failure messages)."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return f"--- {self.name} ---\n" + "\n".join(text.splitlines()[-lines:])


class RedisServer:
    """A redis-server of its own, without persistence: killed, it comes back empty."""

    def __init__(self, logs: Path):
        self.port = free_port(REDIS_PORTS)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = Process(f"redis-{self.port}", [
            shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(self.port),
            "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], dict(os.environ), logs)

    def start(self) -> None:
        self.process.start()
        wait_for_port(self.port)

    def kill(self) -> None:
        self.process.kill()

    def freeze(self) -> None:
        self.process.signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.signal(signal.SIGCONT)

    def stop(self) -> None:
        self.process.stop()


class PostgresCluster:
    """A PostgreSQL cluster of its own (initdb as the `postgres` user), trust auth on 127.0.0.1."""

    def __init__(self):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins:
            raise RuntimeError("PostgreSQL's server binaries (initdb) are not installed")
        self.bin = Path(bins[-1]).parent
        self.port = free_port(POSTGRES_PORTS)
        self.root = Path(tempfile.mkdtemp(prefix=f"boomerang-chaos-pg-{self.port}-"))
        self.data = self.root / "data"
        shutil.chown(self.root, "postgres", "postgres")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/chaos"

    def _as_postgres(self, *argv: str) -> None:
        subprocess.run(["su", "postgres", "-s", "/bin/sh", "-c", " ".join(argv)], check=True,
                       capture_output=True, timeout=60)

    def init(self) -> None:
        """initdb, start, and create the `chaos` database."""
        self._as_postgres(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                          "-E", "UTF8", "--no-sync")
        self.start()
        self._as_postgres(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                          "chaos")

    def _ctl(self, action: str, *extra: str) -> None:
        options = f"'-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off'"
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"),
                          "-o", options, "-w", *extra, action)

    def start(self) -> None:
        self._ctl("start")

    def restart(self) -> None:
        """Fast shutdown (connections cut), then start again."""
        self._ctl("restart", "-m", "fast")

    def crash(self) -> None:
        """Immediate shutdown, as a crash: what sits in PostgreSQL's log buffers, not yet handed
        to the operating system (the last asynchronous commits), is lost; then start again."""
        self._ctl("restart", "-m", "immediate")

    def destroy(self) -> None:
        try:
            self._ctl("stop", "-m", "immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)


def post(base_port: int, path: str, body: bytes, headers: dict, timeout: float = 10.0) -> int:
    """One POST on a fresh connection; the status (599 when there was no answer)."""
    conn = http.client.HTTPConnection("127.0.0.1", base_port, timeout=timeout)
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError:
        return 599
    finally:
        conn.close()


def get_json(port: int, path: str, timeout: float = 5.0) -> tuple[int, dict]:
    """GET a JSON page: (status, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


class Intake:
    """Signed orders/create deliveries sent on a fixed schedule, each answer timed from the moment
    it was due (a stalled server cannot hide queueing)."""

    def __init__(self, port: int, shop: str, order: dict, first_id: int):
        self.port, self.shop, self.order, self.first_id = port, shop, order, first_id
        self.results: dict[int, tuple[int, float]] = {}  # order id -> (status, seconds)
        self._lock = threading.Lock()

    def delivery(self, order_id: int) -> tuple[bytes, dict]:
        body = json.dumps({**self.order, "id": order_id,
                           "admin_graphql_api_id": f"gid://shopify/Order/{order_id}"}).encode()
        return body, signed_headers(body, self.shop, event_id=f"chaos-{order_id}")

    def send(self, order_id: int, due: float) -> None:
        body, headers = self.delivery(order_id)
        status = post(self.port, "/webhooks/shopify", body, headers)
        with self._lock:
            self.results[order_id] = (status, time.monotonic() - due)

    def run(self, count: int, rate: float, during=None) -> None:
        """Send `count` deliveries at `rate` per second; `during(elapsed)` is called between sends."""
        start = time.monotonic() + 0.1
        with ThreadPoolExecutor(max_workers=32) as pool:
            for i in range(count):
                due = start + i / rate
                while (now := time.monotonic()) < due:
                    if during:
                        during(now - start)
                    time.sleep(min(0.01, max(0.0, due - now)))
                pool.submit(self.send, self.first_id + i, due)

    def resend_refused(self) -> int:
        """Send again what was not answered 200, as Shopify retries; returns how many."""
        refused = [order_id for order_id, (status, _) in self.results.items() if status != 200]
        for order_id in refused:
            self.send(order_id, time.monotonic())
        return len(refused)

    def latencies(self) -> list[float]:
        return sorted(seconds for _, seconds in self.results.values())


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the sorted `values` lie."""
    return values[min(len(values) - 1, int(share * len(values)))] if values else float("nan")


def app_env(database_url: str, redis_url: str, encryption_key: str, **settings) -> dict:
    """The production configuration's environment for the app's processes."""
    return {**os.environ, "BOOMERANG_ENV": "production", "DATABASE_URL": database_url, "REDIS_URL": redis_url,
            "SECRET_KEY": "chaos-secret-key", "TOKEN_ENCRYPTION_KEYS": encryption_key,
            "SESSION_COOKIE_SECURE": "false", "SHOPIFY_API_ORIGIN_ALLOWED": "true", "PYTHONPATH": str(PROJECT_ROOT),
            "FLASK_APP": "wsgi", **{key: str(value) for key, value in settings.items()}}


def gunicorn(env: dict, logs: Path) -> tuple[Process, int]:
    """gunicorn serving wsgi:app as the Procfile does (2 workers × 4 threads); (process, port)."""
    port = free_port()
    process = Process("gunicorn", [sys.executable, "-m", "gunicorn", "wsgi:app", "-b", f"127.0.0.1:{port}",
                                   "-w", "2", "--threads", "4", "--log-level", "warning"], env, logs).start()
    wait_for_port(port)
    # The master listens before its workers have loaded the app: wait until both answer.
    for _ in range(8):
        assert wait_until(lambda: _answers(port), 30), "gunicorn's workers did not answer"
    return process, port


def _answers(port: int) -> bool:
    try:
        return get_json(port, "/healthz")[0] == 200
    except OSError:
        return False


def flask_command(name: str, env: dict, logs: Path, *argv: str) -> Process:
    """`flask <argv>` (e.g. `jobs worker`) as its own process."""
    return Process(name, [sys.executable, "-m", "flask", "--app", "wsgi", *argv], env, logs).start()


def wait_until(condition, seconds: float, poll: float = 0.1) -> float | None:
    """Poll `condition()` until true; the seconds it took, or None if it never was."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():
            return time.monotonic() - started
        time.sleep(poll)
    return None
