"""Helpers for storage tests: fresh processes, servers, image paths."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]


def child_env() -> dict[str, str]:
    """The environment for a child Python that imports this checkout's `world`."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def run_py(code: str, *args: str, timeout: float = 120) -> str:
    """Run `code` in a fresh Python process; return its stdout (fail on a non-zero exit)."""
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args],
                          capture_output=True, text=True, timeout=timeout, env=child_env())
    assert proc.returncode == 0, f"child failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def spawn_py(code: str, *args: str) -> subprocess.Popen:
    """Start `code` in a fresh Python process with pipes for its output."""
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=child_env())


@pytest.fixture(name="run_py")
def run_py_fixture() -> object:
    """`run_py(code, *args)`: run code in a fresh process, return its stdout."""
    return run_py


@pytest.fixture(name="spawn_py")
def spawn_py_fixture() -> object:
    """`spawn_py(code, *args)`: start code in a fresh process."""
    return spawn_py


@pytest.fixture
def image(tmp_path: Path) -> str:
    """A path for a new image, in a directory that does not exist yet."""
    return str(tmp_path / "images" / "world.fs")


def _writable(folder: Path) -> bool:
    try:
        (folder / ".probe").touch()
    except OSError:
        return False
    (folder / ".probe").unlink()
    return True


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory this user cannot write to (skips where there is none)."""
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if _writable(folder):               # root ignores permission bits; sysfs refuses root
            folder = Path("/sys")
            if not folder.is_dir() or _writable(folder):
                pytest.skip("no directory here is read-only for this user")
        yield folder
    finally:
        (tmp_path / "locked").chmod(0o755)
