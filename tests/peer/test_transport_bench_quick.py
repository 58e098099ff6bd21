"""`bench/bench_peer.py --quick` runs end to end against a real server process and prints
every figure (no timing is asserted: only that every message was answered)."""
from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_the_quick_peer_bench_answers_every_message() -> None:
    r = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "bench_peer.py"), "--quick"],
                       capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 0, (r.stdout, r.stderr[-2000:])
    for figure in ("answered            20/20", "latency p50", "latency p99",
                   "messages per second", "server peak memory", "answer p50", "ratio"):
        assert figure in r.stdout, (figure, r.stdout)
