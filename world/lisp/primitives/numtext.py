"""Numbers to text and back: number->string and string->number, in any radix,
with integers of any size (CPython caps int/str conversion at 4300 digits)."""
from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

from .. import budget
from ..cost import charge_from_decimal, charge_mul, charge_quad
from ..errors import EvalError

from . import primitive

from .check import need_number, show, type_error
from .numbers import exact, refuse_bits, to_float


# ---------------------------------------------------------------- number <-> string

_UINT = {2: re.compile("[01]+"), 8: re.compile("[0-7]+"), 10: re.compile("[0-9]+"),
         16: re.compile("[0-9a-fA-F]+")}
_LOG2 = {2: 1.0, 8: 3.0, 10: math.log2(10), 16: 4.0}


def int_to_string(n: int, radix: int = 10) -> str:
    """The digits of `n` in `radix` (2, 8, 10 or 16), for integers of any size, charged
    (decimal conversion is quadratic) and accounted as a new string."""
    bits = n.bit_length()
    if radix != 10:
        budget.charge(bits >> 10)
        text = format(n, {2: "b", 8: "o", 16: "x"}[radix])
    elif bits <= 64:
        return str(n)
    else:
        from ..printer import write
        text = write(n)             # in pieces under CPython's 4300-digit cap, charged
    budget.alloc(len(text))
    return text


def _parse_uint(digits: str, radix: int) -> int:
    """The value of a string of digits known to be valid in `radix`."""
    digits = digits.lstrip("0") or "0"
    refuse_bits("string->number", (len(digits) - 1) * _LOG2[radix])
    if radix != 10:
        budget.charge(len(digits) >> 6)
        return int(digits, radix)
    charge_from_decimal(len(digits))
    return _decimal(digits)


def _decimal(digits: str) -> int:
    """The value of a string of decimal digits, in pieces under CPython's 4300-digit cap."""
    if len(digits) < 3900:
        return int(digits)
    k = len(digits) // 2
    return _decimal(digits[:-k]) * 10 ** k + _decimal(digits[-k:])


def float_to_string(x: float) -> str:
    """The written form of a float: `1.5`, `1e+100`, `+inf.0`, `+nan.0`."""
    if x != x:
        return "+nan.0"
    if math.isinf(x):
        return "+inf.0" if x > 0 else "-inf.0"
    return repr(x)


@primitive("number->string")
def number_to_string(z: Any, radix: Any = 10) -> str:
    """(number->string z [radix]) -> the written form of z in radix 2, 8, 10 or 16."""
    t = type(need_number("number->string", z))
    if type(radix) is not int or radix not in (2, 8, 10, 16):
        raise EvalError(f"number->string: radix must be 2, 8, 10 or 16, got {show(radix)}")
    if t is float:
        if radix != 10:
            raise EvalError("number->string: inexact numbers are written in radix 10 only")
        return float_to_string(z)
    if t is Fraction:
        return int_to_string(z.numerator, radix) + "/" + int_to_string(z.denominator, radix)
    return int_to_string(z, radix)


_DECIMAL = re.compile(r"([+-]?)(?:([0-9]+)(?:\.([0-9]*))?|\.([0-9]+))(?:[eE]([+-]?[0-9]+))?")
_SPECIAL = {"+inf.0": math.inf, "-inf.0": -math.inf, "+nan.0": math.nan, "-nan.0": math.nan}


def _parse_real(s: str, radix: int) -> Any:
    """The number written `s` (no prefix) in `radix`, or None."""
    if s in _SPECIAL:
        return _SPECIAL[s]
    sign = -1 if s[:1] == "-" else 1
    body = s[1:] if s[:1] in "+-" else s
    digits = _UINT[radix].fullmatch
    num, slash, den = body.partition("/")
    if num and digits(num):
        if not slash:
            return sign * _parse_uint(num, radix)
        if den and digits(den):
            d = _parse_uint(den, radix)
            return exact(Fraction(sign * _parse_uint(num, radix), d)) if d else None
        return None
    if radix == 10 and _DECIMAL.fullmatch(s):
        return float(s)
    return None


def _exact_decimal(s: str) -> Any:
    """The exact value of decimal syntax such as `1.25e3`, refused early if huge."""
    m = _DECIMAL.fullmatch(s)
    sign, whole, frac, only_frac, expo = m.groups()
    frac = only_frac if only_frac is not None else (frac or "")
    mantissa = (whole or "") + frac
    scale = int(expo or 0) - len(frac)
    mantissa = mantissa.lstrip("0")
    if not mantissa:
        return 0
    bits = (len(mantissa) + abs(scale)) * _LOG2[10]
    refuse_bits("string->number", bits)
    charge_mul(int(bits), int(bits))
    charge_quad(int(bits))
    value = Fraction(_parse_uint(mantissa, 10)) * Fraction(10) ** scale
    return exact(-value if sign == "-" else value)


@primitive("string->number")
def string_to_number(s: Any, radix: Any = 10) -> Any:
    """(string->number str [radix]) -> the number written in str, or #f."""
    if type(s) is not str:
        raise type_error("string->number", "a string", s)
    if type(radix) is not int or radix not in (2, 8, 10, 16):
        raise EvalError(f"string->number: radix must be 2, 8, 10 or 16, got {show(radix)}")
    budget.charge(len(s) >> 4)
    exactness, radix_given = None, False
    while s[:1] == "#":                     # prefixes such as #x, #e, #e#x
        flag = s[1:2].lower()
        if flag in ("e", "i") and exactness is None:
            exactness = flag
        elif flag in ("x", "b", "o", "d") and not radix_given:
            radix, radix_given = {"x": 16, "b": 2, "o": 8, "d": 10}[flag], True
        else:
            return False
        s = s[2:]
    if not s.isascii():
        return False
    value = _parse_real(s, radix)
    if value is None:
        return False
    if exactness == "i":
        return to_float(value)
    if exactness == "e" and type(value) is float:
        return False if s in _SPECIAL else _exact_decimal(s)
    return value
