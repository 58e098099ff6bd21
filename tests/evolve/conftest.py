"""Fixtures of the evolution tests."""
from __future__ import annotations

from typing import Iterator

import pytest

from messages_server import MessagesServer
from world.evolve.rounds import DEFAULTS


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[MessagesServer]:
    """A Messages-API server on loopback that the real SDK talks to, with short backoffs."""
    with MessagesServer() as s:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", s.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
        monkeypatch.setitem(DEFAULTS, "backoff", 0.01)
        yield s
