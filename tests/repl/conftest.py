"""Worlds for the REPL tests (the session driver is in repl_driver.py)."""
from __future__ import annotations

from typing import Any

import pytest

import world


@pytest.fixture(name="w")
def world_fixture() -> Any:
    """A fresh in-memory world."""
    w = world.open()
    yield w
    w.close()


@pytest.fixture(name="image")
def image_fixture(tmp_path: Any) -> Any:
    """A world in an image file on disk."""
    w = world.open(tmp_path / "world.fs")
    yield w
    w.close()
