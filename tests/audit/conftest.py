"""Helpers for audit tests."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "history"))


@pytest.fixture
def image(tmp_path: Path) -> str:
    """A path for a new image."""
    return str(tmp_path / "world.fs")
