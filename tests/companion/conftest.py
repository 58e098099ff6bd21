"""Fixtures of the companion tests: a world, and the loopback Messages-API server."""
from __future__ import annotations

import os
import sys
from typing import Iterator

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "evolve"))

from messages_server import MessagesServer  # noqa: E402
from world.companion import calls  # noqa: E402


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[MessagesServer]:
    """A Messages-API server on loopback that the real SDK talks to, with short backoffs."""
    with MessagesServer() as s:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", s.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
        monkeypatch.delenv("WORLD_MODEL", raising=False)
        monkeypatch.setitem(calls.OPTIONS, "backoff", 0.01)
        yield s


@pytest.fixture
def w(tmp_path):
    """A world in an image file on disk, with two definitions and a check."""
    import world
    w = world.open(tmp_path / "world.fs")
    w.eval('(define (sq x) (* x x))')
    w.eval('(define (quad x) "The fourth power." (sq (sq x)))')
    w.eval('(check 9 (sq 3))')
    w.eval('(commit "squares")')
    yield w
    w.close()
