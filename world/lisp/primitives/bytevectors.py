"""R7RS bytevectors (6.9): immutable Python `bytes`, written `#u8(1 2 3)`.

Like vectors and strings, a bytevector is a value (see immutable.py for
`bytevector-u8-set!`); `bytevector-u8-set` returns a new one.
"""
from __future__ import annotations

from typing import Any

from .. import budget
from ..errors import EvalError
from . import primitive
from .numbers import ABSENT, need_count, need_index, need_range, show, type_error
from .strings import need_string


def need_bytevector(who: str, b: Any) -> bytes:
    """`b`, or a type error if it is not a bytevector."""
    if type(b) is not bytes:
        raise type_error(who, "a bytevector", b)
    return b


def need_byte(who: str, x: Any) -> int:
    """`x`, or an error unless it is an exact integer 0 to 255."""
    if type(x) is not int or not 0 <= x <= 255:
        raise type_error(who, "a byte (an exact integer 0 to 255)", x)
    return x


def new_bytes(data: bytes) -> bytes:
    """A new bytevector of a size the program chose: checked, accounted, charged."""
    budget.alloc(len(data))
    budget.charge(len(data) >> 6)
    return data


@primitive("bytevector?")
def is_bytevector(x: Any) -> bool:
    """(bytevector? x) -> whether x is a bytevector."""
    return type(x) is bytes


@primitive("bytevector")
def bytevector(*items: Any) -> bytes:
    """(bytevector byte ...) -> a bytevector of the arguments."""
    return new_bytes(bytes(need_byte("bytevector", x) for x in items))


@primitive("make-bytevector")
def make_bytevector(n: Any, fill: Any = 0) -> bytes:
    """(make-bytevector k [byte]) -> a bytevector of k copies of byte (default 0)."""
    need_count("make-bytevector", n)
    need_byte("make-bytevector", fill)
    lim = budget.limits().string
    if n > lim:
        raise_size(n, lim)
    return new_bytes(bytes([fill]) * n)


def raise_size(n: int, lim: int) -> None:
    """Refuse a bytevector over the size limit (the string limit: both are flat arrays)."""
    from ..errors import BudgetExceeded
    raise BudgetExceeded("list", f"bytevector of {n} bytes exceeds the limit of {lim}")


@primitive("bytevector-length")
def bytevector_length(b: Any) -> int:
    """(bytevector-length bv) -> the number of bytes in bv."""
    return len(need_bytevector("bytevector-length", b))


@primitive("bytevector-u8-ref")
def bytevector_u8_ref(b: Any, k: Any) -> int:
    """(bytevector-u8-ref bv k) -> byte k of bv, counting from 0."""
    need_bytevector("bytevector-u8-ref", b)
    return b[need_index("bytevector-u8-ref", k, len(b))]


@primitive("bytevector-u8-set")
def bytevector_u8_set(b: Any, k: Any, x: Any) -> bytes:
    """(bytevector-u8-set bv k byte) -> a new bytevector: bv with byte k replaced."""
    need_bytevector("bytevector-u8-set", b)
    k = need_index("bytevector-u8-set", k, len(b))
    return new_bytes(b[:k] + bytes((need_byte("bytevector-u8-set", x),)) + b[k + 1:])


@primitive("bytevector-copy")
def bytevector_copy(b: Any, start: Any = 0, end: Any = ABSENT) -> bytes:
    """(bytevector-copy bv [start [end]]) -> the bytes of bv from start up to end."""
    need_bytevector("bytevector-copy", b)
    start, end = need_range("bytevector-copy", start, end, len(b))
    return new_bytes(b[start:end])


@primitive("bytevector-append")
def bytevector_append(*bs: Any) -> bytes:
    """(bytevector-append bv ...) -> the bytevectors joined."""
    for b in bs:
        need_bytevector("bytevector-append", b)
    n, lim = sum(map(len, bs)), budget.limits().string
    if n > lim:
        raise_size(n, lim)
    return new_bytes(b"".join(bs))


@primitive("utf8->string")
def utf8_to_string(b: Any, start: Any = 0, end: Any = ABSENT) -> str:
    """(utf8->string bv [start [end]]) -> the string the bytes from start up to end encode in UTF-8."""
    need_bytevector("utf8->string", b)
    start, end = need_range("utf8->string", start, end, len(b))
    budget.charge((end - start) >> 4)
    try:
        s = b[start:end].decode("utf-8")
    except UnicodeDecodeError as e:
        raise EvalError(f"utf8->string: not UTF-8: byte {start + e.start} is {show(b[start + e.start])}") from None
    budget.alloc(len(s))
    return s


@primitive("string->utf8")
def string_to_utf8(s: Any, start: Any = 0, end: Any = ABSENT) -> bytes:
    """(string->utf8 s [start [end]]) -> the UTF-8 bytes of the characters of s from start up to end."""
    need_string("string->utf8", s)
    start, end = need_range("string->utf8", start, end, len(s))
    budget.charge((end - start) >> 4)
    try:
        data = s[start:end].encode("utf-8")
    except UnicodeEncodeError:      # a lone surrogate made by a primitive: not a character
        raise EvalError("string->utf8: the string holds a lone surrogate, which UTF-8 cannot encode") from None
    if len(data) > budget.limits().string:
        raise_size(len(data), budget.limits().string)
    return new_bytes(data)
