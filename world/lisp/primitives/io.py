"""Output primitives: text goes to the evaluation's output buffer, capped by
the output budget; there is no file, process, network or clock access."""
from __future__ import annotations

from typing import Any

from ..types import VOID
from . import primitive
from .check import ABSENT, need_range
from .ports import emit
from .strings import need_string


@primitive("display", group="output")
def display(x: Any, port: Any = ABSENT) -> Any:
    """(display x [port]) writes x for people (strings without quotes) to port, or to (current-output-port)."""
    from ..printer import display as show
    return emit("display", show(x), port)


@primitive("write", group="output")
def write(x: Any, port: Any = ABSENT) -> Any:
    """(write x [port]) writes x's canonical text to port, or to the output."""
    from ..printer import write as show
    return emit("write", show(x), port)


@primitive("newline", group="output")
def newline(port: Any = ABSENT) -> Any:
    """(newline [port])"""
    return emit("newline", "\n", port)


@primitive("write-string", group="output")
def write_string(s: Any, port: Any = ABSENT, start: Any = 0, end: Any = ABSENT) -> Any:
    """(write-string s [port [start [end]]]) writes the characters of s from start up to end."""
    from ..printer import display as show
    if port is not ABSENT:
        need_string("write-string", s)
        start, end = need_range("write-string", start, end, len(s))
        return emit("write-string", s[start:end], port)
    return emit("write-string", show(s), port)


@primitive("write-simple", group="output")
def write_simple(x: Any, port: Any = ABSENT) -> Any:
    """(write-simple x [port]) is write: values print without datum labels (a cycle prints as #<cycle>)."""
    return write(x, port)


@primitive("write-shared", group="output")
def write_shared(x: Any, port: Any = ABSENT) -> Any:
    """(write-shared x [port]) is write: there are no datum labels (a cycle prints as #<cycle>)."""
    return write(x, port)
