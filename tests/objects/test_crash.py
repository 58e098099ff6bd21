"""Crash safety: a process killed at a random moment loses at most the form
it was evaluating, and the image passes ZODB's own checkers."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from typing import Callable

import world


DEFINER = """
import sys, world
w = world.open(sys.argv[1])
prefix, i = sys.argv[2], 0
while True:
    w.eval(f"(define {prefix}-{i} (list {i} (iota 40) (box {i})))")
    print(i, flush=True)     # only after the form's transaction has committed
    i += 1
"""


def _kill_at_random(spawn_py: Callable, image: str, prefix: str, rng: random.Random) -> list[int]:
    proc = spawn_py(DEFINER, image, prefix)
    printed: list[int] = []
    reader = threading.Thread(target=lambda: printed.extend(int(x) for x in proc.stdout))
    reader.start()
    deadline = time.monotonic() + 60
    while not printed and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    assert printed, proc.stderr.read()
    time.sleep(rng.uniform(0.0, 0.6))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    reader.join()
    proc.stderr.close()
    return printed


def test_sigkill_loses_nothing_that_was_committed(image: str, spawn_py: Callable) -> None:
    rng = random.Random()
    seen = {}
    for trial in range(3):
        seen[f"t{trial}"] = _kill_at_random(spawn_py, image, f"t{trial}", rng)
        with world.open(image) as w:     # drops an unfinished last transaction, if any
            names = set(w.image.root.definitions.keys())
            for prefix, printed in seen.items():
                for i in printed:
                    assert f"{prefix}-{i}" in names, f"{prefix}-{i} was lost"
                last = printed[-1]
                assert world.write(w.eval(f"(car {prefix}-{last})")) == str(last)
                assert w.eval(f"(unbox (caddr {prefix}-{last}))") == last
    check = subprocess.run([sys.executable, "-m", "ZODB.scripts.fstest", image],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    refs = subprocess.run([sys.executable, "-m", "ZODB.scripts.fsrefs", image],
                          capture_output=True, text=True)
    assert refs.returncode == 0 and refs.stdout.strip() == "", refs.stdout + refs.stderr
