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


@pytest.fixture(autouse=True)
def no_meter_outlives_its_test() -> Iterator[None]:
    """Every evaluation's meter is stopped, and the recursion limit put back, when it ends:
    a meter left current would make every later evaluation in the process a nested one,
    drawing on a dead budget."""
    import sys
    from world.lisp import budget
    budget.CURRENT = None
    limit = sys.getrecursionlimit()
    yield
    leaked = budget.CURRENT
    budget.CURRENT = None
    raised = sys.getrecursionlimit()
    sys.setrecursionlimit(limit)
    assert leaked is None, f"a meter outlived its evaluation: {leaked.limits}"
    # A raised limit left behind lets deep recursion on an ordinary thread's small stack crash
    # the process instead of raising RecursionError.
    assert raised == limit, f"the recursion limit was left at {raised}"
