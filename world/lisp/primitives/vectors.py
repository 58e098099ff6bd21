"""R7RS vector procedures beyond data.py's: vectors to and from strings.

Vectors are immutable tuples (see immutable.py for `vector-set!`); `#(1 2 3)`
reads as the same vector as `[1 2 3]`.
"""
from __future__ import annotations

from typing import Any

from .. import budget
from ..types import Char
from . import primitive
from .data import need_vector, new_vector
from .numbers import ABSENT, need_range, type_error
from .strings import need_string


@primitive("vector->string")
def vector_to_string(v: Any, start: Any = 0, end: Any = ABSENT) -> str:
    """(vector->string v [start [end]]) -> the string of the characters of v from start up to end."""
    need_vector("vector->string", v)
    start, end = need_range("vector->string", start, end, len(v))
    out = []
    for c in v[start:end]:
        if type(c) is not Char:
            raise type_error("vector->string", "a vector of characters", c)
        out.append(c.c)
    budget.charge((end - start) >> 2)
    budget.alloc(end - start)
    return "".join(out)


@primitive("string->vector")
def string_to_vector(s: Any, start: Any = 0, end: Any = ABSENT) -> tuple:
    """(string->vector s [start [end]]) -> the vector of the characters of s from start up to end."""
    need_string("string->vector", s)
    start, end = need_range("string->vector", start, end, len(s))
    budget.check_length(end - start, "vector")
    return new_vector([Char(c) for c in s[start:end]])
