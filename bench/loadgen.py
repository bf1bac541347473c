"""A small HTTP load generator for the benchmarks: closed-loop throughput and open-loop latency,
over keep-alive connections, from worker processes so the GIL does not cap the client."""
import multiprocessing
import os
import socket
import statistics
import threading
import time
from urllib.parse import urlsplit


class KeepAliveConnection:
    """A lean HTTP/1.1 client connection: the request written in one send, the response read
    by its Content-Length (gunicorn sends one for every answer measured here), reconnecting
    when the server closes.

    The load generator shares the machine with the server it measures. At 200 requests/s,
    http.client spent about 0.7 ms of CPU per request here and this spends about 0.33 ms;
    the difference is CPU the server gets back."""

    def __init__(self, host: str, port: int, timeout: float = 10.0):
        self.address, self.timeout = (host, port), timeout
        self.host_header = f"Host: {host}:{port}\r\n".encode()
        self.sock = None
        self.buffer = b""

    def _connect(self):
        self.sock = socket.create_connection(self.address, timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> int:
        """Send one request and read its whole response; returns the status code."""
        head = [f"{method} {path} HTTP/1.1\r\n".encode(), self.host_header]
        head += [f"{name}: {value}\r\n".encode() for name, value in (headers or {}).items()]
        if body is not None:
            head.append(f"Content-Length: {len(body)}\r\n".encode())
        payload = b"".join(head) + b"\r\n" + (body or b"")
        if self.sock is None:
            self._connect()
        try:
            self.sock.sendall(payload)
            return self._read_response()
        except (ConnectionError, _Closed):
            self.close()  # a keep-alive connection the server had closed: one fresh try
            self._connect()
            self.sock.sendall(payload)
            return self._read_response()

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise _Closed()
        self.buffer += chunk

    def _read_until(self, marker: bytes) -> bytes:
        while (end := self.buffer.find(marker)) < 0:
            self._fill()
        found, self.buffer = self.buffer[:end], self.buffer[end + len(marker):]
        return found

    def _read_exactly(self, count: int) -> bytes:
        while len(self.buffer) < count:
            self._fill()
        found, self.buffer = self.buffer[:count], self.buffer[count:]
        return found

    def _read_response(self) -> int:
        lines = self._read_until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
        if "content-length" not in fields:
            raise RuntimeError(f"a response without Content-Length ({lines[0]}): this client reads no other framing")
        self._read_exactly(int(fields["content-length"]))
        if fields.get("connection", "").lower() == "close":
            self.close()
        return status

    def close(self):
        """Close the socket (the next request reconnects)."""
        if self.sock is not None:
            self.sock.close()
        self.sock = None


class _Closed(Exception):
    """The server closed the connection before a whole response arrived."""


def _worker_closed(url, make_request, seconds, connections, queue):
    parts = urlsplit(url)
    done = [0]
    errors = [0]
    stop = time.perf_counter() + seconds

    def loop(index):
        conn = KeepAliveConnection(parts.hostname, parts.port)
        n = 0
        while time.perf_counter() < stop:
            method, path, body, headers = make_request(index, n)
            n += 1
            if conn.request(method, path, body, headers) == 200:
                done[0] += 1
            else:
                errors[0] += 1
        conn.close()

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put((done[0], errors[0]))


def closed_loop(url, make_request, seconds=5.0, processes=2, connections=4):
    """Requests per second with `processes × connections` clients sending back to back.
    `make_request(client_index, n) -> (method, path, body, headers)` must be picklable."""
    queue = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=_worker_closed,
                                       args=(url, _offset(make_request, p * 1000), seconds, connections, queue))
               for p in range(processes)]
    for worker in workers:
        worker.start()
    results = [queue.get() for _ in workers]
    for worker in workers:
        worker.join()
    ok = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    return {"rps": ok / seconds, "ok": ok, "errors": errors}


class _offset:
    """Picklable wrapper giving each process its own client index range."""

    def __init__(self, make_request, base):
        self.make_request, self.base = make_request, base

    def __call__(self, index, n):
        return self.make_request(self.base + index, n)


def cpu_times() -> list[int] | None:
    """The machine's CPU time counters (jiffies: user, nice, system, idle, iowait, irq, softirq,
    steal, ...) from /proc/stat, or None where there is no /proc."""
    try:
        with open("/proc/stat") as stat:
            return [int(field) for field in stat.readline().split()[1:]]
    except OSError:
        return None


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) used so far by process `pid` and its living descendants, from
    /proc (0.0 where there is none): where a run's CPU went, process by process."""
    children: dict[int, list[int]] = {}
    used: dict[int, int] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                # After the command's closing parenthesis: state, ppid, … utime (14th), stime (15th).
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:  # it ended meanwhile
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        used[int(entry)] = int(fields[11]) + int(fields[12])
    ticks, frontier = 0, [pid]
    while frontier:
        member = frontier.pop()
        ticks += used.get(member, 0)
        frontier.extend(children.get(member, ()))
    return ticks / os.sysconf("SC_CLK_TCK")


def steal_share(before: list[int] | None, after: list[int] | None) -> float | None:
    """The share of CPU time the hypervisor gave to other guests between two `cpu_times()`.
    On a shared virtual machine this, not the code, decides the latency tail: while a vCPU is
    stolen nothing runs, and every request that arrives meanwhile queues."""
    if not before or not after or len(before) < 8:
        return None
    deltas = [b - a for a, b in zip(before, after, strict=True)]
    total = sum(deltas[:8])
    return deltas[7] / total if total else 0.0


def format_share(share: float | None) -> str:
    """A steal share for printing ("n/a" where the machine does not report one)."""
    return "n/a" if share is None else f"{share * 100:.1f}%"


def apart(func, *args):
    """Run ``func(*args)`` in a forked child that is a session of its own; return its result.

    For senders, which stand in for machines that do not share this host. Under the kernel's
    autogroup scheduling (/proc/sys/kernel/sched_autogroup_enabled) CPU is shared first between
    sessions and only then by niceness inside one, and PostgreSQL's backends are one session
    while a benchmark's processes are another. A sender in the benchmark's session waited for
    that session's turn whenever the measured system was busy, and its lateness counted as the
    server's: in one flash sale the senders sent p99 2.0 ms late at niceness -10, against 0.4 ms
    with no pipeline running. In a session of its own a sender is scheduled as a machine apart."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def child():
        os.setsid()
        try:
            send.send((True, func(*args)))
        except Exception as error:  # noqa: BLE001 - handed to the parent, which raises it
            send.send((False, repr(error)))

    process = context.Process(target=child)
    process.start()
    ok, result = receive.recv()
    process.join()
    if not ok:
        raise RuntimeError(f"{getattr(func, '__name__', func)} failed in its own session: {result}")
    return result


def watch_stalls(seconds: float, threshold_ms: float = 20.0, interval: float = 0.002) -> list[tuple[float, float]]:
    """Sleep `interval` again and again for `seconds` (run it through `apart`); return each wake-up
    later than `threshold_ms` as (wall-clock time it was due, ms late).

    In a session of its own such a sleeper is woken within a millisecond or two even with both
    cores busy (the scheduler shares CPU between sessions first), so a wake-up tens of ms late
    is the host taking the CPU away (the hypervisor), which the steal counters do not always
    show. A benchmark prints them beside a latency tail that such a stall would explain."""
    stalls = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        due_wall, due = time.time() + interval, time.perf_counter() + interval
        time.sleep(interval)
        late_ms = (time.perf_counter() - due) * 1000
        if late_ms > threshold_ms:
            stalls.append((due_wall, late_ms))
    return stalls


def watch_flushes(seconds: float, directory: str, threshold_ms: float = 20.0,
                  interval: float = 0.1) -> list[tuple[float, float]]:
    """Write 8 KB to a scratch file in `directory` and flush it to the disk (fdatasync) every
    `interval` for `seconds` (run it through `apart`); return each flush slower than
    `threshold_ms` as (wall-clock time it began, ms taken).

    A disk that stalls holds every synchronous commit behind it: intake's answer waits for its
    delivery to be on disk. Ten flushes a second are a tenth of what intake itself asks at 100
    deliveries a second, and catch any stall of over 0.1 s."""
    import tempfile

    stalls = []
    block = b"\0" * 8192
    with tempfile.TemporaryFile(dir=directory) as scratch:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            began_wall, began = time.time(), time.perf_counter()
            os.pwrite(scratch.fileno(), block, 0)
            os.fdatasync(scratch.fileno())
            took_ms = (time.perf_counter() - began) * 1000
            if took_ms > threshold_ms:
                stalls.append((began_wall, took_ms))
            time.sleep(interval)
    return stalls


def watching(func, *args) -> tuple[threading.Thread, list]:
    """Start `func(*args)` (a watcher returning a list) apart, on a thread of this process;
    returns (the thread, a list that holds what it found once the thread is joined)."""
    found = []
    thread = threading.Thread(target=lambda: found.extend(apart(func, *args)), daemon=True)
    thread.start()
    return thread, found


def format_stalls(stalls: list[tuple[float, float]]) -> str:
    """'N (longest X ms, Y ms in all)' for a list of `watch_stalls` or `watch_flushes`."""
    if not stalls:
        return "none"
    return (f"{len(stalls)} (longest {max(ms for _at, ms in stalls):.0f} ms,"
            f" {sum(ms for _at, ms in stalls):.0f} ms in all)")


def slowest_during_stalls(latencies: list, answered: list, stalls: list, share: float = 0.01) -> int:
    """How many of the `share` slowest answers were awaited (from the scheduled send to the
    answer) during one of `stalls` (each (began, ms)): the part of the tail the host, not the
    system, explains."""
    timed = sorted(((latency, i) for i, latency in enumerate(latencies) if latency is not None), reverse=True)
    slowest = timed[:max(1, int(len(timed) * share))]
    spans = [(due, due + late_ms / 1000) for due, late_ms in stalls]
    return sum(1 for latency, i in slowest
               if any(begin < answered[i] and answered[i] - latency / 1000 < end for begin, end in spans))


def open_loop(url, make_request, rate=200.0, seconds=5.0, connections=8):
    """Send `rate` requests per second on a fixed schedule; returns latency percentiles (ms) and
    the CPU steal share during the run. Latency is measured from the scheduled send time, so a
    stalled server cannot hide queueing; `late_p99` is how late the senders themselves sent (run
    it through `apart` to keep that small)."""
    parts = urlsplit(url)
    total = int(rate * seconds)
    start = time.perf_counter() + 0.2
    latencies, late = [], []
    errors = [0]
    lock = threading.Lock()
    next_index = [0]

    def loop(client):
        conn = KeepAliveConnection(parts.hostname, parts.port)
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= total:
                break
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            method, path, body, headers = make_request(client, i)
            sent = time.perf_counter()
            status = conn.request(method, path, body, headers)
            elapsed = (time.perf_counter() - scheduled) * 1000
            with lock:
                latencies.append(elapsed)
                late.append((sent - scheduled) * 1000)
                if status != 200:
                    errors[0] += 1
        conn.close()

    threads = [threading.Thread(target=loop, args=(c,)) for c in range(connections)]
    before = cpu_times()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    steal = steal_share(before, cpu_times())
    latencies.sort()
    late.sort()

    def pct(p, values=latencies):
        return values[min(len(values) - 1, int(p / 100 * len(values)))]

    return {"p50": pct(50), "p95": pct(95), "p99": pct(99), "max": latencies[-1],
            "mean": statistics.fmean(latencies), "sent": total, "errors": errors[0],
            "steal": steal, "late_p99": pct(99, late)}
