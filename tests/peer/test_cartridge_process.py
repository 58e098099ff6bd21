"""Cartridges resumed in FRESH processes (`python -m repl.cli`): the same output and value
as one uninterrupted run, whichever step it paused at, and after pausing again."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from test_cartridge import PROGRAM  # the same program, paused in fresh processes
from world.peer import cartridge as C

ROOT = Path(__file__).resolve().parents[2]


def world(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """`world ARGS` in a new process, in tmp_path, with its own config directory."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), WORLD_CONFIG_DIR=str(tmp_path / "config"))
    env.pop("WORLD_IMAGE", None)
    proc = subprocess.run([sys.executable, "-m", "repl.cli", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def test_resumed_in_fresh_processes(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "prog.lisp").write_text(PROGRAM)
    whole = world(tmp_path, "cartridge", "run", "prog.lisp")
    assert whole.returncode == 0 and whole.stdout == "1 2 3 \n5 8 13 \ntotal 13\n(13 21)\n"
    full = C.run(PROGRAM)
    # Pause points: the first step, inside show-all's nested `one` (a line half printed),
    # the last step but one; then steps 30 and 150 below.
    inside = [n for n in range(1, full.steps, 3) if C.run(PROGRAM, pause_at=n).paused.output
              .endswith(" ")]
    steps = [1, inside[len(inside) // 2], full.steps - 1]
    for n in steps:
        first = C.run(PROGRAM, pause_at=n).paused
        first.write(f"p{n}.lispy.json")
        rest = world(tmp_path, "cartridge", "resume", f"p{n}.lispy.json")
        assert rest.returncode == 0, rest.stderr
        assert first.output + rest.stdout == whole.stdout, n

    # Pause (in one process), pause again (in another), finish (in a third).
    a = world(tmp_path, "run", "prog.lisp", "--pause-at", "30", "--cartridge", "a.lispy.json")
    assert a.returncode == 0 and "paused at step 30: wrote a.lispy.json" in a.stderr
    b = world(tmp_path, "cartridge", "resume", "a.lispy.json", "--pause-at", "150")
    assert b.returncode == 0 and "paused at step 150: wrote a.150.lispy.json" in b.stderr
    c = world(tmp_path, "cartridge", "resume", "a.150.lispy.json")
    assert c.returncode == 0 and a.stdout + b.stdout + c.stdout == whole.stdout


def test_cartridge_save_resumed_in_a_fresh_process(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = ('(define (count-to n) (let loop ((i 1)) (when (<= i n) (display i) (loop (+ i 1)))))\n'
            '(count-to 3)\n(define where (cartridge/save "mid.lispy.json"))\n(count-to 5)\n'
            '(list where (* 6 7))\n')
    full = C.run(text)
    assert full.output == "12312345"
    assert C.load("mid.lispy.json").output == "123"
    os.rename("mid.lispy.json", "kept.lispy.json")
    rest = world(tmp_path, "cartridge", "resume", "kept.lispy.json")
    assert rest.returncode == 0 and rest.stdout == '12345\n("mid.lispy.json" 42)\n'
    assert not (tmp_path / "mid.lispy.json").exists()      # the replay did not write it again
