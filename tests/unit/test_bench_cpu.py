"""The flash-sale benchmark's CPU per part: a process's figure includes its children's work."""
import os
import signal
import subprocess
import sys
import time

from bench.loadgen import tree_cpu_seconds

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
