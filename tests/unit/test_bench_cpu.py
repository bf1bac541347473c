"""The benchmarks' measuring aids: a process's CPU figure includes its children's work, a
sender run apart is a session of its own, and a late wake-up is reported as a host stall."""
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from bench.loadgen import apart, format_stalls, slowest_during_stalls, tree_cpu_seconds, watch_flushes, watch_stalls

# A parent that only waits for its child, which burns 0.4 s of CPU and then stays alive.
_PARENT = ("import subprocess, sys; subprocess.run([sys.executable, '-c', 'import time\\n"
           "end = time.process_time() + 0.4\\nwhile time.process_time() < end: pass\\ntime.sleep(30)'])")


def test_a_process_tree_counts_the_cpu_its_children_spend():
    parent = subprocess.Popen([sys.executable, "-c", _PARENT], start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        used = 0.0
        while used < 0.35 and time.monotonic() < deadline:  # until the child has done its work
            time.sleep(0.1)
            used = tree_cpu_seconds(parent.pid)
        # The parent itself spends only its start-up (a few hundredths): the rest is the child's.
        assert used >= 0.35
    finally:
        os.killpg(parent.pid, signal.SIGKILL)  # the parent and its sleeping child
        parent.wait()


def test_a_process_that_is_gone_counts_nothing():
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert tree_cpu_seconds(gone.pid) == 0.0


def _where() -> tuple[int, int]:
    return os.getpid(), os.getsid(0)


def _fails():
    raise ValueError("no such shop")


def test_a_sender_run_apart_is_a_session_of_its_own_and_hands_back_its_result():
    """The scheduler shares CPU between sessions first: a sender in the benchmark's own session
    would wait for that session's turn while the measured system is busy."""
    pid, session = apart(_where)
    assert pid != os.getpid() and session == pid != os.getsid(0)
    with pytest.raises(RuntimeError, match="no such shop"):
        apart(_fails)


def test_a_sleeper_woken_late_is_reported_as_a_stall_with_when_it_was_due():
    """What `watch_stalls` reports is a wake-up later than its threshold: here this process holds
    the sleeper back for 80 ms (the interpreter's lock, with no switch meanwhile)."""
    found = []
    sleeper = threading.Thread(target=lambda: found.extend(watch_stalls(0.6)))
    interval = sys.getswitchinterval()
    sleeper.start()
    time.sleep(0.2)
    held_from = time.time()
    sys.setswitchinterval(5.0)
    try:
        end = time.perf_counter() + 0.08
        while time.perf_counter() < end:
            pass
    finally:
        sys.setswitchinterval(interval)
    sleeper.join()
    # Exactly one report for the hold (the host may add a stall of its own elsewhere in the 0.6 s).
    (due, late_ms), = [(due, ms) for due, ms in found if abs(due - held_from) < 0.05]
    assert 50 <= late_ms <= 500


def test_the_slowest_answers_awaited_during_a_stall_are_counted():
    # Answers 0-99 fast; 100 and 101 slow, 100 awaited across the stall, 101 long after it.
    latencies = [2.0] * 100 + [300.0, 250.0]
    answered = [1000.0 + n for n in range(100)] + [2000.3, 3000.3]
    stall = (2000.1, 150.0)  # due at 2000.1 s, woken 150 ms late
    assert slowest_during_stalls(latencies, answered, [stall]) == 1
    assert slowest_during_stalls(latencies, answered, []) == 0
    assert format_stalls([stall, (3100.0, 30.0)]) == "2 (longest 150 ms, 180 ms in all)"


def test_every_flush_slower_than_the_threshold_is_reported_and_the_scratch_file_removed(tmp_path):
    flushes = watch_flushes(0.35, str(tmp_path), threshold_ms=0.0, interval=0.1)
    assert 3 <= len(flushes) <= 5 and all(ms > 0 for _began, ms in flushes)
    assert [began for began, _ms in flushes] == sorted(began for began, _ms in flushes)
    assert list(tmp_path.iterdir()) == []
    assert watch_flushes(0.15, str(tmp_path), threshold_ms=10_000.0) == []
