"""Numeric primitives: a tower of exact `int` and `Fraction` and inexact `float`.

A Fraction whose denominator is 1 is always returned as an int, and a bool
is never a number, although Python thinks so. Every exact result is checked
against the integer-size limit; `*`, `/` and `expt` estimate the size of
their result and refuse before computing it. Big integers cost time, so
operations on them charge steps in proportion to the work.
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, Callable

from .. import budget
from ..cost import BIG_BITS, charge_div, charge_mul, charge_quad, mul_steps
from ..errors import BudgetExceeded, EvalError

from . import primitive

from .check import (ABSENT, SMALL_BITS, is_number, need_count, need_index, need_int,  # noqa: F401
                    need_number, need_proc, need_range, show, type_error)


def big(n: int) -> int:
    """Check a big integer result against the size limit, and charge for making it."""
    budget.check_int(n)
    budget.charge(n.bit_length() >> 10)      # linear work on its digits
    budget.alloc(n.bit_length() >> 3)        # and its bytes
    return n


def exact(x: Any) -> Any:
    """Normalize an exact result (Fraction n/1 -> int) and check its size."""
    t = type(x)
    if t is int:
        return big(x) if x.bit_length() > SMALL_BITS else x
    if t is Fraction:
        if x.denominator == 1:
            return exact(x.numerator)
        if x.denominator.bit_length() > SMALL_BITS or x.numerator.bit_length() > SMALL_BITS:
            big(x.numerator)
            big(x.denominator)
    return x


def to_float(x: Any) -> float:
    """`x` as a float; exact numbers too large become infinities."""
    if type(x) is Fraction and (x.numerator.bit_length() > BIG_BITS
                                or x.denominator.bit_length() > BIG_BITS):
        budget.charge(_bits(x) >> 12)       # CPython divides only the leading digits
    try:
        return float(x)
    except OverflowError:
        return math.inf if x > 0 else -math.inf


def _bits(x: Any) -> int:
    """The bit size of an exact number (the larger of numerator and denominator)."""
    if type(x) is int:
        return x.bit_length()
    return max(x.numerator.bit_length(), x.denominator.bit_length())


def _nd_bits(x: Any) -> tuple[int, int]:
    """The bit sizes of the numerator and denominator of an exact number."""
    if type(x) is int:
        return x.bit_length(), 1
    return x.numerator.bit_length(), x.denominator.bit_length()


def refuse_bits(who: str, bits: float) -> None:
    """Refuse, before computing it, an exact result of about `bits` bits."""
    if bits > SMALL_BITS:
        cap = budget.limits().int_bits
        if bits > cap:
            raise BudgetExceeded("integer", f"{who}: result of about {bits:.0f} bits "
                                            f"exceeds the integer limit of {cap} bits")


def charge_ratio(*xs: Any) -> None:
    """Charge for arithmetic on exact numbers, rationals among them: cross products
    and the gcd that puts the result in lowest terms (quadratic in the size)."""
    bits = 0
    ratio = False
    for x in xs:
        if type(x) is Fraction:
            ratio = True
            bits = max(bits, x.numerator.bit_length(), x.denominator.bit_length())
    if ratio and bits > BIG_BITS // 2:
        charge_quad(bits)           # the gcd of the denominators
        budget.charge(3 * mul_steps(bits, bits))    # the cross products


def _add(a: Any, b: Any) -> Any:
    if type(a) is float or type(b) is float:
        return to_float(a) + to_float(b)
    charge_ratio(a, b)
    return exact(a + b)


def _sub(a: Any, b: Any) -> Any:
    if type(a) is float or type(b) is float:
        return to_float(a) - to_float(b)
    charge_ratio(a, b)
    return exact(a - b)


def _mul(who: str, a: Any, b: Any) -> Any:
    if type(a) is float or type(b) is float:
        return to_float(a) * to_float(b)
    if type(a) is int and type(b) is int and (a.bit_length() < SMALL_BITS and b.bit_length() < SMALL_BITS):
        return exact(a * b)
    (an, ad), (bn, bd) = _nd_bits(a), _nd_bits(b)
    if a and b:
        refuse_bits(who, max(an + bn, ad + bd))
    charge_mul(max(an, ad), max(bn, bd))
    charge_ratio(a, b)
    return exact(a * b)


def _div(who: str, a: Any, b: Any) -> Any:
    if not b:
        raise EvalError(f"{who}: division by zero")
    if type(a) is float or type(b) is float:
        return to_float(a) / to_float(b)
    (an, ad), (bn, bd) = _nd_bits(a), _nd_bits(b)
    refuse_bits(who, max(an + bd, ad + bn))
    charge_mul(max(an, ad), max(bn, bd))
    charge_quad(max(an, ad, bn, bd))         # the gcds that put it in lowest terms
    if type(a) is Fraction or type(b) is Fraction:
        charge_quad(max(an, ad, bn, bd))
    if type(a) is int and type(b) is int:
        return exact(Fraction(a, b))
    return exact(Fraction(a) / b)


# ---------------------------------------------------------------- arithmetic

@primitive("+")
def num_add(*args: Any) -> Any:
    """(+ x ...) -> the sum of the numbers (0 for none)."""
    if len(args) == 2:
        a, b = args
        if type(a) is int and type(b) is int:
            r = a + b
            return big(r) if r.bit_length() > SMALL_BITS else r
    budget.charge(len(args) >> 4)
    total: Any = 0
    for x in args:
        total = _add(total, need_number("+", x))
    return total


@primitive("-")
def num_sub(x: Any, *rest: Any) -> Any:
    """(- x y ...) -> x minus the others; (- x) -> the negation of x."""
    if len(rest) == 1 and type(x) is int and type(rest[0]) is int:
        r = x - rest[0]
        return big(r) if r.bit_length() > SMALL_BITS else r
    need_number("-", x)
    if not rest:
        return -x if type(x) is float else exact(-x)
    budget.charge(len(rest) >> 4)
    for y in rest:
        x = _sub(x, need_number("-", y))
    return x


@primitive("*")
def num_mul(*args: Any) -> Any:
    """(* x ...) -> the product of the numbers (1 for none)."""
    budget.charge(len(args) >> 4)
    product: Any = 1
    for x in args:
        product = _mul("*", product, need_number("*", x))
    return product


@primitive("/")
def num_div(x: Any, *rest: Any) -> Any:
    """(/ x y ...) -> x divided by the others, exact when all are exact; (/ x) -> 1/x."""
    need_number("/", x)
    if not rest:
        return _div("/", 1, x)
    budget.charge(len(rest) >> 4)
    for y in rest:
        x = _div("/", x, need_number("/", y))
    return x


def _compare(who: str, test: Callable[[Any, Any], bool], args: tuple) -> bool:
    for x in args:
        need_number(who, x)
    budget.charge(len(args) >> 4)
    charge_order(args)
    return all(test(args[i], args[i + 1]) for i in range(len(args) - 1))


def charge_order(args: tuple) -> None:
    """Charge for comparing big rationals: each comparison multiplies across."""
    for x in args:
        if type(x) is Fraction:
            bits = max(_bits(y) for y in args if type(y) is not float)
            if bits > BIG_BITS // 2:
                budget.charge(2 * (len(args) - 1) * mul_steps(bits, bits))
            return


@primitive("=")
def num_eq(x: Any, *rest: Any) -> bool:
    """(= x y ...) -> whether the numbers are all equal."""
    if len(rest) == 1 and type(x) is int and type(rest[0]) is int:
        return x == rest[0]
    return _compare("=", lambda a, b: a == b, (x,) + rest)


@primitive("<")
def num_lt(x: Any, *rest: Any) -> bool:
    """(< x y ...) -> whether the numbers strictly increase."""
    if len(rest) == 1 and type(x) is int and type(rest[0]) is int:
        return x < rest[0]
    return _compare("<", lambda a, b: a < b, (x,) + rest)


@primitive(">")
def num_gt(x: Any, *rest: Any) -> bool:
    """(> x y ...) -> whether the numbers strictly decrease."""
    if len(rest) == 1 and type(x) is int and type(rest[0]) is int:
        return x > rest[0]
    return _compare(">", lambda a, b: a > b, (x,) + rest)


@primitive("<=")
def num_le(x: Any, *rest: Any) -> bool:
    """(<= x y ...) -> whether the numbers never decrease."""
    if len(rest) == 1 and type(x) is int and type(rest[0]) is int:
        return x <= rest[0]
    return _compare("<=", lambda a, b: a <= b, (x,) + rest)


@primitive(">=")
def num_ge(x: Any, *rest: Any) -> bool:
    """(>= x y ...) -> whether the numbers never increase."""
    if len(rest) == 1 and type(x) is int and type(rest[0]) is int:
        return x >= rest[0]
    return _compare(">=", lambda a, b: a >= b, (x,) + rest)


# ---------------------------------------------------------------- integer division

def _integers(who: str, *xs: Any) -> tuple[list[int], bool]:
    """Integer arguments (exact, or integral floats) as ints, and whether any was inexact."""
    out, inexact = [], False
    for x in xs:
        if type(x) is int:
            out.append(x)
        elif type(x) is float and x.is_integer():
            out.append(int(x))
            inexact = True
        else:
            raise type_error(who, "an integer", x)
    return out, inexact


def _int_result(n: int, inexact: bool) -> Any:
    return to_float(n) if inexact else exact(n)


def _divide(who: str, a: Any, b: Any) -> tuple[int, int, bool]:
    (a, b), inexact = _integers(who, a, b)
    if b == 0:
        raise EvalError(f"{who}: division by zero")
    charge_div(a.bit_length(), b.bit_length())
    return a, b, inexact


@primitive("quotient")
def quotient(a: Any, b: Any) -> Any:
    """(quotient n d) -> n/d truncated toward zero."""
    a, b, inexact = _divide("quotient", a, b)
    q = abs(a) // abs(b)
    return _int_result(q if (a < 0) == (b < 0) else -q, inexact)


@primitive("remainder")
def remainder(a: Any, b: Any) -> Any:
    """(remainder n d) -> the remainder of quotient, with the sign of n."""
    a, b, inexact = _divide("remainder", a, b)
    r = abs(a) % abs(b)
    return _int_result(-r if a < 0 else r, inexact)


@primitive("modulo")
def modulo(a: Any, b: Any) -> Any:
    """(modulo n d) -> n modulo d, with the sign of d."""
    a, b, inexact = _divide("modulo", a, b)
    return _int_result(a % b, inexact)


@primitive("gcd")
def gcd(*args: Any) -> Any:
    """(gcd n ...) -> the greatest common divisor (0 for none)."""
    ns, inexact = _integers("gcd", *args)
    budget.charge(len(ns) >> 4)
    for n in ns:
        charge_quad(n.bit_length())
    return _int_result(math.gcd(*ns), inexact)


@primitive("lcm")
def lcm(*args: Any) -> Any:
    """(lcm n ...) -> the least common multiple (1 for none)."""
    ns, inexact = _integers("lcm", *args)
    r = 1
    for n in ns:
        refuse_bits("lcm", r.bit_length() + n.bit_length())
        charge_quad(max(r.bit_length(), n.bit_length()))
        charge_mul(r.bit_length(), n.bit_length())
        r = math.lcm(r, n)
    return _int_result(r, inexact)


@primitive("odd?")
def is_odd(n: Any) -> bool:
    """(odd? n) -> whether the integer n is odd."""
    return _integers("odd?", n)[0][0] & 1 == 1


@primitive("even?")
def is_even(n: Any) -> bool:
    """(even? n) -> whether the integer n is even."""
    return _integers("even?", n)[0][0] & 1 == 0


# ---------------------------------------------------------------- rounding, sign, extremes

def _rounder(who: str, fn: Callable[[Any], int], x: Any) -> Any:
    t = type(need_number(who, x))
    if t is int:
        return x
    if t is Fraction:
        charge_div(x.numerator.bit_length(), x.denominator.bit_length())
        if fn is round:
            charge_mul(x.denominator.bit_length(), 2)
        return exact(fn(x))
    if not math.isfinite(x):
        return x
    return math.copysign(float(fn(x)), x)     # keeps -0.0, as (ceiling -0.5) should


@primitive("floor")
def num_floor(x: Any) -> Any:
    """(floor x) -> the largest integer not above x."""
    return _rounder("floor", math.floor, x)


@primitive("ceiling")
def num_ceiling(x: Any) -> Any:
    """(ceiling x) -> the smallest integer not below x."""
    return _rounder("ceiling", math.ceil, x)


@primitive("truncate")
def num_truncate(x: Any) -> Any:
    """(truncate x) -> x rounded toward zero."""
    return _rounder("truncate", math.trunc, x)


@primitive("round")
def num_round(x: Any) -> Any:
    """(round x) -> x rounded to the nearest integer, ties to even."""
    return _rounder("round", round, x)


@primitive("abs")
def num_abs(x: Any) -> Any:
    """(abs x) -> the absolute value of x."""
    return abs(need_number("abs", x))


def _extreme(who: str, pick: Callable, args: tuple) -> Any:
    for x in args:
        need_number(who, x)
    budget.charge(len(args) >> 4)
    charge_order(args)
    if any(type(x) is float for x in args):
        if any(x != x for x in args):
            return math.nan
        return to_float(pick(args))
    return pick(args)


@primitive("max")
def num_max(x: Any, *rest: Any) -> Any:
    """(max x ...) -> the largest number, inexact if any is."""
    return _extreme("max", max, (x,) + rest)


@primitive("min")
def num_min(x: Any, *rest: Any) -> Any:
    """(min x ...) -> the smallest number, inexact if any is."""
    return _extreme("min", min, (x,) + rest)


@primitive("numerator")
def numerator(x: Any) -> Any:
    """(numerator q) -> the numerator of q in lowest terms."""
    return _ratio_part("numerator", x, 0)


@primitive("denominator")
def denominator(x: Any) -> Any:
    """(denominator q) -> the denominator of q in lowest terms (positive)."""
    return _ratio_part("denominator", x, 1)


def _ratio_part(who: str, x: Any, which: int) -> Any:
    t = type(need_number(who, x))
    if t is float:
        if not math.isfinite(x):
            raise EvalError(f"{who}: {show(x)} is not a rational number")
        return to_float(Fraction(x).as_integer_ratio()[which])
    return Fraction(x).as_integer_ratio()[which]


# ---------------------------------------------------------------- predicates

@primitive("number?")
def is_number_p(x: Any) -> bool:
    """(number? x) -> whether x is a number."""
    return is_number(x)


@primitive("complex?")
def is_complex(x: Any) -> bool:
    """(complex? x) -> whether x is a number (every number is real here)."""
    return is_number(x)


@primitive("real?")
def is_real(x: Any) -> bool:
    """(real? x) -> whether x is a number."""
    return is_number(x)


@primitive("rational?")
def is_rational(x: Any) -> bool:
    """(rational? x) -> whether x is an exact number or a finite float."""
    t = type(x)
    return t is int or t is Fraction or (t is float and math.isfinite(x))


@primitive("integer?")
def is_integer(x: Any) -> bool:
    """(integer? x) -> whether x is an integer, exact or inexact."""
    t = type(x)
    return t is int or (t is float and x.is_integer()) or (t is Fraction and x.denominator == 1)


@primitive("exact-integer?")
def is_exact_integer(x: Any) -> bool:
    """(exact-integer? x) -> whether x is an exact integer."""
    return type(x) is int


@primitive("exact?")
def is_exact(x: Any) -> bool:
    """(exact? z) -> whether the number z is exact."""
    return type(need_number("exact?", x)) is not float


@primitive("inexact?")
def is_inexact(x: Any) -> bool:
    """(inexact? z) -> whether the number z is inexact."""
    return type(need_number("inexact?", x)) is float


@primitive("nan?")
def is_nan(x: Any) -> bool:
    """(nan? z) -> whether the number z is not-a-number."""
    return type(need_number("nan?", x)) is float and math.isnan(x)


@primitive("infinite?")
def is_infinite(x: Any) -> bool:
    """(infinite? z) -> whether the number z is an infinity."""
    return type(need_number("infinite?", x)) is float and math.isinf(x)


@primitive("finite?")
def is_finite(x: Any) -> bool:
    """(finite? z) -> whether the number z is neither infinite nor NaN."""
    return type(need_number("finite?", x)) is not float or math.isfinite(x)


@primitive("zero?")
def is_zero(x: Any) -> bool:
    """(zero? z) -> whether the number z is zero."""
    return need_number("zero?", x) == 0


@primitive("positive?")
def is_positive(x: Any) -> bool:
    """(positive? x) -> whether x is greater than zero."""
    return need_number("positive?", x) > 0


@primitive("negative?")
def is_negative(x: Any) -> bool:
    """(negative? x) -> whether x is less than zero."""
    return need_number("negative?", x) < 0


# ---------------------------------------------------------------- exactness conversion

@primitive("inexact")
def inexact(x: Any) -> float:
    """(inexact z) -> z as a float."""
    return to_float(need_number("inexact", x))


@primitive("exact->inexact")
def exact_to_inexact(x: Any) -> float:
    """(exact->inexact z) -> z as a float."""
    return to_float(need_number("exact->inexact", x))


def _to_exact(who: str, x: Any) -> Any:
    if type(need_number(who, x)) is not float:
        return x
    if not math.isfinite(x):
        raise EvalError(f"{who}: {show(x)} has no exact value")
    return exact(Fraction(x))


@primitive("exact")
def to_exact(x: Any) -> Any:
    """(exact z) -> the exact number equal to z."""
    return _to_exact("exact", x)


@primitive("inexact->exact")
def inexact_to_exact(x: Any) -> Any:
    """(inexact->exact z) -> the exact number equal to z."""
    return _to_exact("inexact->exact", x)


# ---------------------------------------------------------------- bitwise

@primitive("bitwise-and")
def bitwise_and(*args: Any) -> int:
    """(bitwise-and n ...) -> the bitwise and of the exact integers (-1 for none)."""
    r = -1
    for n in args:
        r &= need_int("bitwise-and", n)
    budget.charge(sum(n.bit_length() for n in args) >> 10)
    return r


@primitive("bitwise-or")
def bitwise_or(*args: Any) -> int:
    """(bitwise-or n ...) -> the bitwise or of the exact integers (0 for none)."""
    r = 0
    for n in args:
        r |= need_int("bitwise-or", n)
    budget.charge(sum(n.bit_length() for n in args) >> 10)
    return r


@primitive("bitwise-xor")
def bitwise_xor(*args: Any) -> int:
    """(bitwise-xor n ...) -> the bitwise exclusive or of the exact integers (0 for none)."""
    r = 0
    for n in args:
        r ^= need_int("bitwise-xor", n)
    budget.charge(sum(n.bit_length() for n in args) >> 10)
    return r


@primitive("bitwise-not")
def bitwise_not(n: Any) -> int:
    """(bitwise-not n) -> the bitwise complement of the exact integer n."""
    budget.charge(need_int("bitwise-not", n).bit_length() >> 10)
    return ~n


from . import numtext  # noqa: E402,F401  (number <-> string primitives)
