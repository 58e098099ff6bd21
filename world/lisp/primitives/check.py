"""Argument checks shared by every primitive module: one-line type errors
naming the primitive, index and range checks, and the optional-argument marker."""
from __future__ import annotations

from fractions import Fraction
from typing import Any

from ..errors import EvalError, LispTypeError
from ..printer import write
from ..types import LispMap, Procedure

SMALL_BITS = 64          # ints this small cannot threaten the host: skip the size checks
ABSENT = object()        # default of an optional argument not given ('() is None, so not None)


# ---------------------------------------------------------------- argument checks

def show(x: Any, width: int = 40) -> str:
    """A short written form of `x` for an error message: at most `width` characters
    and a bounded walk, however large or shared `x` is."""
    t = type(x)
    if t is int and x.bit_length() > 128:
        return f"an integer of {x.bit_length()} bits"
    if t is Fraction and max(x.numerator.bit_length(), x.denominator.bit_length()) > 128:
        return f"a rational of {max(x.numerator.bit_length(), x.denominator.bit_length())} bits"
    if t is LispMap and len(x) > 8:
        return f"a map of {len(x)} entries"
    if t is str and len(x) > width:
        x = x[:width]
    text = write(x, limit=width)
    return text if len(text) <= width else text[:width - 3] + "..."


def type_error(who: str, what: str, x: Any) -> LispTypeError:
    """The error for an argument of the wrong type."""
    return LispTypeError(f"{who}: expected {what}, got {show(x)}")


def is_number(x: Any) -> bool:
    """Whether `x` is a Lisp number (bools are not)."""
    t = type(x)
    return t is int or t is float or t is Fraction


def need_number(who: str, x: Any) -> Any:
    """`x`, or a type error if it is not a number."""
    t = type(x)
    if t is int or t is float or t is Fraction:
        return x
    raise type_error(who, "a number", x)


def need_int(who: str, x: Any) -> int:
    """`x`, or a type error if it is not an exact integer."""
    if type(x) is not int:
        raise type_error(who, "an exact integer", x)
    return x


def need_count(who: str, x: Any) -> int:
    """`x`, or an error if it is not a non-negative exact integer."""
    if type(x) is not int or x < 0:
        raise type_error(who, "a non-negative exact integer", x)
    return x


def need_index(who: str, k: Any, size: int) -> int:
    """`k`, or an error unless it indexes a sequence of `size` elements."""
    if type(k) is not int:
        raise type_error(who, "an exact integer index", k)
    if not 0 <= k < size:
        raise EvalError(f"{who}: index {show(k)} out of range for length {size}")
    return k


def need_range(who: str, start: Any, end: Any, size: int) -> tuple[int, int]:
    """`(start, end)` with `end` ABSENT meaning `size`, or an error unless
    0 <= start <= end <= size."""
    if end is ABSENT:
        end = size
    for k in (start, end):
        if type(k) is not int:
            raise type_error(who, "an exact integer index", k)
    if not 0 <= start <= end <= size:
        raise EvalError(f"{who}: range {show(start)}..{show(end)} out of bounds for length {size}")
    return start, end


def need_proc(who: str, f: Any) -> Any:
    """`f`, or a type error if it is not a procedure."""
    if not isinstance(f, Procedure):
        raise type_error(who, "a procedure", f)
    return f


# ---------------------------------------------------------------- exactness and size
