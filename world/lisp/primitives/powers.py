"""Numeric primitives, continued: powers, roots, logarithms and trigonometry.

Exact powers estimate the size of their result and refuse before computing
it; everything else works on floats, as R7RS's inexact procedures do.
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, Callable

from .. import budget
from ..cost import charge_quad, mul_steps
from ..errors import EvalError

from . import primitive
from .check import ABSENT, need_number, show
from .numbers import _bits, _mul, exact, refuse_bits, to_float


@primitive("square")
def square(x: Any) -> Any:
    """(square x) -> x times x."""
    return _mul("square", need_number("square", x), x)


def _exact_pow(base: Any, power: int) -> Any:
    """`base ** power` for exact base and power >= 0, refused early if too big."""
    if base in (0, 1) or power == 0:
        return 1 if power == 0 else base
    if base == -1:
        return -1 if power % 2 else 1
    if type(base) is int:
        bits = to_float(power) * math.log2(abs(base))
    else:
        bits = to_float(power) * max(math.log2(abs(base.numerator)), math.log2(base.denominator))
    refuse_bits("expt", bits)
    # repeated squaring: the last squaring dominates, the others sum to less than it
    half = int(bits) >> 1
    budget.charge(2 * mul_steps(half, half) + (power.bit_length() >> 4))
    return exact(base ** power)


def _float_expt(a: float, b: float) -> float:
    try:
        return math.pow(a, b)
    except OverflowError:
        odd = a < 0 and b.is_integer() and b % 2 == 1
        return -math.inf if odd else math.inf
    except ValueError:
        if a == 0:
            raise EvalError("expt: division by zero") from None
        raise EvalError(f"expt: {show(a)} to the power {show(b)} is not a real number") from None


@primitive("expt")
def expt(base: Any, power: Any) -> Any:
    """(expt base power) -> base raised to power, exact for exact base and integer power."""
    need_number("expt", base)
    need_number("expt", power)
    if type(base) is float or type(power) is not int:
        return _float_expt(to_float(base), to_float(power))
    if power >= 0:
        return _exact_pow(base, power)
    if base == 0:
        raise EvalError("expt: division by zero")
    return exact(Fraction(1) / _exact_pow(base, -power))


def _exact_root(n: int) -> int | None:
    r = math.isqrt(n)
    return r if r * r == n else None


@primitive("sqrt")
def num_sqrt(x: Any) -> Any:
    """(sqrt x) -> the square root of x, exact when x is an exact square."""
    need_number("sqrt", x)
    if x < 0:
        raise EvalError(f"sqrt: negative argument {show(x)}")
    t = type(x)
    if t is int or t is Fraction:
        n, d = Fraction(x).as_integer_ratio()
        budget.charge(_bits(x) >> 7)
        charge_quad(n.bit_length() * 3 >> 2)     # isqrt: Newton steps, quadratic division
        charge_quad(d.bit_length() * 3 >> 2)
        rn, rd = _exact_root(n), _exact_root(d)
        if rn is not None and rd is not None:
            return exact(Fraction(rn, rd))
        if t is int and x.bit_length() > 1000:
            charge_quad(x.bit_length() * 3 >> 2)
            return to_float(math.isqrt(x))
    return math.sqrt(to_float(x))


def _float_fn(who: str, fn: Callable[..., float], *xs: Any) -> float:
    args = [to_float(need_number(who, x)) for x in xs]
    try:
        return fn(*args)
    except OverflowError:
        raise EvalError(f"{who}: result out of range") from None
    except (ValueError, ZeroDivisionError):
        raise EvalError(f"{who}: argument out of domain: {' '.join(show(x) for x in xs)}") from None


@primitive("exp")
def num_exp(x: Any) -> float:
    """(exp x) -> e to the power x."""
    return _float_fn("exp", math.exp, x)


@primitive("log")
def num_log(x: Any, base: Any = ABSENT) -> float:
    """(log x [base]) -> the natural logarithm of x, or its logarithm in base."""
    def log(v: Any) -> float:
        if type(v) is int and v > 0:
            return math.log(v)                  # exact for ints too big for a float
        return _float_fn("log", math.log, v)
    need_number("log", x)
    if base is ABSENT:
        return log(x)
    need_number("log", base)
    return _float_fn("log", lambda a, b: a / b, log(x), log(base))


@primitive("sin")
def num_sin(x: Any) -> float:
    """(sin x) -> the sine of x (radians)."""
    return _float_fn("sin", math.sin, x)


@primitive("cos")
def num_cos(x: Any) -> float:
    """(cos x) -> the cosine of x (radians)."""
    return _float_fn("cos", math.cos, x)


@primitive("tan")
def num_tan(x: Any) -> float:
    """(tan x) -> the tangent of x (radians)."""
    return _float_fn("tan", math.tan, x)


@primitive("asin")
def num_asin(x: Any) -> float:
    """(asin x) -> the arcsine of x."""
    return _float_fn("asin", math.asin, x)


@primitive("acos")
def num_acos(x: Any) -> float:
    """(acos x) -> the arccosine of x."""
    return _float_fn("acos", math.acos, x)


@primitive("atan")
def num_atan(y: Any, x: Any = ABSENT) -> float:
    """(atan y [x]) -> the arctangent of y, or of y/x in the right quadrant."""
    if x is ABSENT:
        return _float_fn("atan", math.atan, y)
    return _float_fn("atan", math.atan2, y, x)
