"""Helpers for history tests: image paths in tmp_path and small helpers."""
from __future__ import annotations

from pathlib import Path
import pytest


@pytest.fixture
def image(tmp_path: Path) -> str:
    """A path for a new image."""
    return str(tmp_path / "world.fs")

