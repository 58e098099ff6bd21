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


class CellCrash(LispError):
    """A cell raised something that is not a Lisp error (a bug the harness survives)."""

    kind = "internal error"


def cell_error(e: Exception) -> LispError:
    """Whatever a cell raised, as a Lisp error with a one-line message, so a run records
    it as the cell's result and goes on."""
    from ..lisp.runtime import translate
    if isinstance(e, LispError):
        return e
    try:
        err = translate(e)          # RecursionError, MemoryError, host type errors...
    except Exception:               # translating failed too: report the original
        err = None
    if isinstance(err, LispError):
        return err
    text = " ".join(f"{type(e).__name__}: {e}".split())
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")   # no lone surrogates
    return CellCrash(text if len(text) <= 300 else text[:297] + "...")
