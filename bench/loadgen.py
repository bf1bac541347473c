"""A small HTTP load generator for the benchmarks: closed-loop throughput and open-loop latency,
over keep-alive connections, from worker processes so the GIL does not cap the client."""
import http.client
import multiprocessing
import statistics
import threading
import time
from urllib.parse import urlsplit


def _worker_closed(url, make_request, seconds, connections, queue):
    parts = urlsplit(url)
    done = [0]
    errors = [0]
    stop = time.perf_counter() + seconds

    def loop(index):
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        n = 0
        while time.perf_counter() < stop:
            method, path, body, headers = make_request(index, n)
            n += 1
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status == 200:
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


def steal_share(before: list[int] | None, after: list[int] | None) -> float | None:
    """The share of CPU time the hypervisor gave to other guests between two `cpu_times()`.
    On a shared virtual machine this, not the code, decides the latency tail: while a vCPU is
    stolen nothing runs, and every request that arrives meanwhile queues."""
    if not before or not after or len(before) < 8:
        return None
    deltas = [b - a for a, b in zip(before, after)]
    total = sum(deltas[:8])
    return deltas[7] / total if total else 0.0


def open_loop(url, make_request, rate=200.0, seconds=5.0, connections=8):
    """Send `rate` requests per second on a fixed schedule; returns latency percentiles (ms) and
    the CPU steal share during the run. Latency is measured from the scheduled send time, so a
    stalled server cannot hide queueing."""
    parts = urlsplit(url)
    total = int(rate * seconds)
    start = time.perf_counter() + 0.2
    latencies = []
    errors = [0]
    lock = threading.Lock()
    next_index = [0]

    def loop(client):
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
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
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            elapsed = (time.perf_counter() - scheduled) * 1000
            with lock:
                latencies.append(elapsed)
                if response.status != 200:
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

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))]

    return {"p50": pct(50), "p95": pct(95), "p99": pct(99), "max": latencies[-1],
            "mean": statistics.fmean(latencies), "sent": total, "errors": errors[0],
            "steal": steal}
