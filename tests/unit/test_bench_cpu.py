"""The flash-sale benchmark's CPU per part: a process's figure includes its children's work."""
import subprocess
import sys
import time

from bench.loadgen import tree_cpu_seconds


def test_a_process_tree_counts_the_cpu_its_children_spend():
    parent = subprocess.Popen([sys.executable, "-c",
                               "import subprocess, sys; subprocess.run([sys.executable, '-c',"
                               " 'import time\\nend = time.process_time() + 0.4\\n"
                               "while time.process_time() < end: pass\\ntime.sleep(30)'])"])
    try:
        deadline = time.monotonic() + 20
        used = 0.0
        while used < 0.35 and time.monotonic() < deadline:
            time.sleep(0.1)
            used = tree_cpu_seconds(parent.pid)
        # The child burnt 0.4 s of CPU; its parent only waited: only the tree sees the work.
        assert used >= 0.35
        assert tree_cpu_seconds(parent.pid) - _own(parent.pid) >= 0.3
    finally:
        subprocess.run(["pkill", "-P", str(parent.pid)], check=False)  # the sleeping child first
        parent.kill()
        parent.wait()


def test_a_process_that_is_gone_counts_nothing():
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert tree_cpu_seconds(gone.pid) == 0.0


def _own(pid: int) -> float:
    import os

    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
