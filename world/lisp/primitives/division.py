"""R7RS integer division (6.2.6): floor/ and truncate/ with their quotient and
remainder halves, exact-integer-sqrt (the two-value ones return `values`), rationalize."""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from .. import budget
from ..cost import charge_quad
from . import primitive
from .check import need_number
from .numbers import _divide, _int_result, exact, to_float, type_error


def two_values(a: Any, b: Any) -> Any:
    """`(values a b)`, as the control forms receive it (let-values, call-with-values)."""
    try:
        from ..dynamic import Values
    except ImportError:         # a release without multiple values: a list of the two
        from ..types import make_list
        return make_list([a, b])
    return Values((a, b))


def _floor(who: str, n: Any, d: Any) -> tuple[Any, Any]:
    n, d, inexact = _divide(who, n, d)
    q, r = divmod(n, d)             # Python's // and % are floor division
    return _int_result(q, inexact), _int_result(r, inexact)


def _truncate(who: str, n: Any, d: Any) -> tuple[Any, Any]:
    n, d, inexact = _divide(who, n, d)
    q = abs(n) // abs(d)
    q = q if (n < 0) == (d < 0) else -q
    return _int_result(q, inexact), _int_result(n - q * d, inexact)


@primitive("floor/")
def floor_div(n: Any, d: Any) -> Any:
    """(floor/ n d) -> two values: the quotient rounded toward minus infinity, and n minus d times it."""
    return two_values(*_floor("floor/", n, d))


@primitive("floor-quotient")
def floor_quotient(n: Any, d: Any) -> Any:
    """(floor-quotient n d) -> n/d rounded toward minus infinity."""
    return _floor("floor-quotient", n, d)[0]


@primitive("floor-remainder")
def floor_remainder(n: Any, d: Any) -> Any:
    """(floor-remainder n d) -> n minus d times (floor-quotient n d): the sign of d, as modulo."""
    return _floor("floor-remainder", n, d)[1]


@primitive("truncate/")
def truncate_div(n: Any, d: Any) -> Any:
    """(truncate/ n d) -> two values: the quotient rounded toward zero, and n minus d times it."""
    return two_values(*_truncate("truncate/", n, d))


@primitive("truncate-quotient")
def truncate_quotient(n: Any, d: Any) -> Any:
    """(truncate-quotient n d) -> n/d rounded toward zero, as quotient."""
    return _truncate("truncate-quotient", n, d)[0]


@primitive("truncate-remainder")
def truncate_remainder(n: Any, d: Any) -> Any:
    """(truncate-remainder n d) -> n minus d times (truncate-quotient n d), as remainder."""
    return _truncate("truncate-remainder", n, d)[1]


@primitive("exact-integer-sqrt")
def exact_integer_sqrt(k: Any) -> Any:
    """(exact-integer-sqrt k) -> two values s and r, with s*s + r = k and s the largest such."""
    if type(k) is not int or k < 0:
        raise type_error("exact-integer-sqrt", "a non-negative exact integer", k)
    charge_quad(k.bit_length() * 3 >> 2)        # isqrt: Newton steps, quadratic division
    s = math.isqrt(k)
    return two_values(s, k - s * s)


@primitive("exact-rational?")
def is_exact_rational(x: Any) -> bool:
    """(exact-rational? x) -> whether x is an exact integer or fraction (R7RS large, SRFI 141 era)."""
    return type(x) is int or type(x) is Fraction


def _simplest(lo: Fraction, hi: Fraction) -> Fraction:
    """The simplest rational in [lo, hi], 0 < lo <= hi, by continued fractions (no recursion)."""
    terms: list[int] = []
    while True:
        budget.charge(1 + (lo.numerator.bit_length() >> 6))
        fl = lo.numerator // lo.denominator
        if fl == lo:
            last = Fraction(fl)
            break
        if fl < hi.numerator // hi.denominator:
            last = Fraction(fl + 1)
            break
        terms.append(fl)
        lo, hi = 1 / (hi - fl), 1 / (lo - fl)
    for t in reversed(terms):
        last = t + 1 / last
    return last


@primitive("rationalize")
def rationalize(x: Any, y: Any) -> Any:
    """(rationalize x y) -> the simplest rational differing from x by no more than y."""
    need_number("rationalize", x)
    need_number("rationalize", y)
    inexact = type(x) is float or type(y) is float
    if inexact and (math.isnan(x) or math.isnan(y)):
        return math.nan
    if inexact and math.isinf(y):
        return 0.0 if not math.isinf(x) else math.nan
    if inexact and math.isinf(x):
        return x
    fx, fy = Fraction(x), abs(Fraction(y))
    lo, hi = fx - fy, fx + fy
    if lo > 0:
        r = _simplest(lo, hi)
    elif hi < 0:
        r = -_simplest(-hi, -lo)
    else:
        r = Fraction(0)
    return to_float(r) if inexact else exact(r)
