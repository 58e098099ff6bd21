"""Calling Lisp procedures from Python, with proper tail calls.

A compiled procedure makes a call in tail position to anything but itself by
returning a `TailCall`; whoever called it non-tail "bounces" until a real
value comes back. Self tail calls compile to loops and never get here.
"""
from __future__ import annotations

from typing import Any

from .errors import LispTypeError
from .types import Procedure


class TailCall:
    """A pending call returned from tail position."""

    __slots__ = ("proc", "args")

    def __init__(self, proc: Any, args: tuple) -> None:
        self.proc = proc
        self.args = args


def bounce(r: Any) -> Any:
    """Run pending tail calls until a value comes back."""
    while type(r) is TailCall:
        proc = r.proc
        if not isinstance(proc, Procedure):
            raise LispTypeError(f"not a procedure: {_show(proc)}")
        r = proc.fn(*r.args)
    return r


def call(proc: Any, *args: Any) -> Any:
    """Apply a Lisp procedure to arguments and return its value."""
    if not isinstance(proc, Procedure):
        raise LispTypeError(f"not a procedure: {_show(proc)}")
    r = proc.fn(*args)
    if type(r) is TailCall:
        r = bounce(r)
    return r


def _show(x: Any) -> str:
    from .printer import write
    text = write(x)
    return text if len(text) < 60 else text[:57] + "..."
