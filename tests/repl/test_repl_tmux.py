"""End to end: `world repl --world IMAGE` in a real terminal under tmux."""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

import world

ROOT = Path(__file__).resolve().parents[2]
TMUX = shutil.which("tmux")

pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed (.ci/run installs it "
                                                     "with apt-get where it can)")


class Terminal:
    """A tmux session on its own server socket, running one command."""

    def __init__(self, command: list[str], width: int = 220, height: int = 30) -> None:
        self.socket = f"world-test-{uuid.uuid4().hex[:8]}"
        env = f"PYTHONPATH={ROOT}"
        shell = "env " + env + " " + " ".join(f"'{c}'" for c in command)
        self.tmux("new-session", "-d", "-s", "t", "-x", str(width), "-y", str(height), shell)

    def tmux(self, *args: str) -> str:
        return subprocess.run([TMUX, "-L", self.socket, *args], capture_output=True, text=True,
                              check=True, timeout=30).stdout

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "t", *keys)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "t")

    def wait_for(self, text: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared; the screen was:\n{screen}")
            time.sleep(0.1)

    def alive(self) -> bool:
        return subprocess.run([TMUX, "-L", self.socket, "has-session", "-t", "t"],
                              capture_output=True).returncode == 0

    def close(self) -> None:
        subprocess.run([TMUX, "-L", self.socket, "kill-server"], capture_output=True)


def test_world_repl_in_a_real_terminal(tmp_path):
    image = tmp_path / "world.fs"
    term = Terminal([sys.executable, "-m", "repl.cli", "repl", "--world", str(image)])
    try:
        term.wait_for("world>")
        screen = term.wait_for(f"world {image}")                         # the toolbar
        assert "pending 0" in screen and "steps — of 10,000,000" in screen
        term.keys("(define (fact n)", "Enter")
        term.wait_for("(define (fact n)")
        term.keys('"Factorial."', "Enter", "(if (< n 2) 1 (* n (fact (- n 1)))))", "Enter")
        screen = term.wait_for("; fact committed as ")
        # Enter inside the open form indented the continuation lines.
        assert '\n         "Factorial."\n         (if (< n 2)' in screen.replace("world> ", "       ")
        term.keys("(fact 20)", "Enter")
        term.wait_for("2432902008176640000")
        term.wait_for("pending 1")                  # the toolbar counts the new commit
        term.keys("(car 1)", "Enter")
        screen = term.wait_for("type error: car")
        assert "Traceback" not in screen
        term.keys("C-d")
        deadline = time.monotonic() + 30
        while term.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not term.alive(), "Ctrl-D did not end the REPL"
    finally:
        term.close()
    with world.open(image) as w:                          # the definition was committed
        assert w.eval("(fact 5)") == 120
    history = Path(str(image) + ".history").read_text()
    assert "+(define (fact n)\n+" in history
