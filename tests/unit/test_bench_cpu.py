"""The benchmarks' measuring aids: a process's CPU figure includes its children's work, and a
sender run apart is a session of its own."""
import os
import signal
import subprocess
import sys
import time

import pytest

from bench.loadgen import apart, tree_cpu_seconds

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
