"""Output primitives: text goes to the evaluation's output buffer, capped by
the output budget; there is no file, process, network or clock access."""
from __future__ import annotations

from typing import Any

from .. import budget
from ..types import VOID
from . import primitive


def _out(text: str) -> None:
    budget.charge(len(text) // 64)
    m = budget.CURRENT
    if m is not None:
        m.write(text)


@primitive("display", group="output")
def display(x: Any) -> Any:
    """(display x) writes x for people: strings without quotes."""
    from ..printer import display as show
    _out(show(x))
    return VOID


@primitive("write", group="output")
def write(x: Any) -> Any:
    """(write x) writes x's canonical text."""
    from ..printer import write as show
    _out(show(x))
    return VOID


@primitive("newline", group="output")
def newline() -> Any:
    """(newline)"""
    _out("\n")
    return VOID


@primitive("write-string", group="output")
def write_string(s: Any) -> Any:
    """(write-string s)"""
    from ..printer import display as show
    _out(show(s))
    return VOID
