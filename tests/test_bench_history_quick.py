"""`bench/bench_history.py --quick` runs end to end and prints every figure (no timing is
asserted: only that each phase ran and the concurrent clients lost nothing)."""
from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_the_quick_history_bench_prints_each_figure() -> None:
    r = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "bench_history.py"), "--quick"],
                       capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    out = r.stdout
    for figure in ("build 200 definitions", "commit one definition at 200, median", "p99",
                   "reopen 200 and call (f1 3)", "cold verify", "0 findings",
                   "rebuild --from atomic", "redefine one name 100 times", "B per redefinition",
                   "2 ZEO clients x 5 distinct definitions", "10/10 defined, 10 recorded"):
        assert figure in out, (figure, out)
    assert "verify: 0 findings" in out, out
