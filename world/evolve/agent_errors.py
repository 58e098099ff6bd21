"""Errors of evolution runs: the user's to act on, one line each."""
from __future__ import annotations

from typing import Any

from ..lisp.errors import LispError


class EvolveError(LispError):
    """A run cannot start or go on: bad settings, a missing key, no run to resume."""

    kind = "evolve"


class ModelError(EvolveError):
    """The model API failed for good (after retries) or refused the request."""

    kind = "model"

    def __init__(self, message: str, reply: Any = None) -> None:
        super().__init__(message)
        self.reply = reply


class ReplayMissing(EvolveError):
    """A replay file holds no reply for the prompt a run asks."""

    kind = "replay"
