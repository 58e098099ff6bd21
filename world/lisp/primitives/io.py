"""Output primitives: text goes to the evaluation's output buffer, capped by
the output budget; there is no file, process, network or clock access."""
from __future__ import annotations

from typing import Any

from .. import budget
from ..types import VOID
from . import primitive
from .check import ABSENT, need_range
from .ports import emit
from .strings import need_string


def _out(text: str) -> None:
    budget.charge(len(text) // 64)
    m = budget.CURRENT
    if m is not None:
        m.write(text)


@primitive("display", group="output")
def display(x: Any, port: Any = ABSENT) -> Any:
    """(display x [port]) writes x for people (strings without quotes) to port, or to the output."""
    from ..printer import display as show
    if port is not ABSENT:
        return emit("display", show(x), port)
    _out(show(x))
    return VOID


@primitive("write", group="output")
def write(x: Any, port: Any = ABSENT) -> Any:
    """(write x [port]) writes x's canonical text to port, or to the output."""
    from ..printer import write as show
    if port is not ABSENT:
        return emit("write", show(x), port)
    _out(show(x))
    return VOID


@primitive("newline", group="output")
def newline(port: Any = ABSENT) -> Any:
    """(newline [port])"""
    if port is not ABSENT:
        return emit("newline", "\n", port)
    _out("\n")
    return VOID


@primitive("write-string", group="output")
def write_string(s: Any, port: Any = ABSENT, start: Any = 0, end: Any = ABSENT) -> Any:
    """(write-string s [port [start [end]]]) writes the characters of s from start up to end."""
    from ..printer import display as show
    if port is not ABSENT:
        need_string("write-string", s)
        start, end = need_range("write-string", start, end, len(s))
        return emit("write-string", s[start:end], port)
    _out(show(s))
    return VOID


@primitive("write-simple", group="output")
def write_simple(x: Any, port: Any = ABSENT) -> Any:
    """(write-simple x [port]) is write: values print without datum labels (a cycle prints as #<cycle>)."""
    return write(x, port)


@primitive("write-shared", group="output")
def write_shared(x: Any, port: Any = ABSENT) -> Any:
    """(write-shared x [port]) is write: there are no datum labels (a cycle prints as #<cycle>)."""
    return write(x, port)
