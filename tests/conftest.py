"""Fixtures shared by the test packages."""
from __future__ import annotations

from typing import Iterator

import pytest


@pytest.fixture
def zeo(image: str) -> Iterator[str]:
    """The address of a real ZEO server on loopback serving `image`, stopped after the test."""
    from world.objects.server import Server
    server = Server(image)
    try:
        yield server.address
    finally:
        server.stop()
