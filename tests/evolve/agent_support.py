"""Shared pieces of the agent tests: a Messages-API responder that plays the
pool's reference solutions, and running `world` in a child process."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from messages_server import good

ROOT = Path(__file__).resolve().parents[2]


def solving(body: dict[str, Any]) -> dict[str, Any]:
    """Answer a problem prompt with the pool's reference solution and (done call)."""
    from world.evolve.pool import load_pool
    text = body["messages"][-1]["content"]
    m = re.search(r"Problem (\d+) \(", text)
    if m is None:
        return good('(note "no change")')
    p = load_pool().get(int(m.group(1)))
    if "## Scratchpad so far\n(empty)" not in text:
        return good(f"(done {p.call_text})")
    return good(f"Here is my solution:\n```lisp\n{p.solution_text()}\n(done {p.call_text})\n```")


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a child `world` that imports this checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.update(extra)
    return env


def world_cli(*args: str, timeout: float = 300, cwd: str | None = None,
              **env: str) -> subprocess.CompletedProcess:
    """Run `python -m repl.cli ARGS` in `cwd` and return the finished process."""
    return subprocess.run([sys.executable, "-m", "repl.cli", *args], capture_output=True,
                          text=True, timeout=timeout, env=child_env(**env), cwd=cwd or str(ROOT))
