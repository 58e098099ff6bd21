"""Fixtures of the companion tests: a world, and the loopback Messages-API server."""
from __future__ import annotations

import os
import sys
from typing import Iterator

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "evolve"))

from messages_server import MessagesServer  # noqa: E402
from world.companion import calls  # noqa: E402


@pytest.fixture(scope="module")
def _server() -> Iterator[MessagesServer]:
    """One server per test module (stopping one waits for its poll interval)."""
    with MessagesServer() as s:
        yield s


@pytest.fixture
def server(_server: MessagesServer, monkeypatch: pytest.MonkeyPatch) -> MessagesServer:
    """The Messages-API server on loopback that the real SDK talks to, its script and
    requests emptied, with short backoffs."""
    with _server.lock:
        _server.script.clear()
        _server.requests.clear()
        _server.default = None
    monkeypatch.setenv("ANTHROPIC_BASE_URL", _server.url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.delenv("WORLD_MODEL", raising=False)
    monkeypatch.setitem(calls.OPTIONS, "backoff", 0.01)
    return _server


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
