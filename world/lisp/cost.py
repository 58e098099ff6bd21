"""What host work costs in steps, for primitives that do more than a step's worth.

One step is about 0.1 microsecond of interpretation (fib 25 runs ~10^7 steps
a second), so a primitive that works for a millisecond charges ~10 000
steps. Big integers are where CPython hides the most work: multiplication is
Karatsuba (n^1.585), while division, gcd and conversion to and from decimal
are quadratic in the number of 30-bit digits. The formulas below were fitted
on CPython 3.11 (1 ns per digit pair, give or take) and round up: a program
may be overcharged, never run for free. Integers of up to `BIG_BITS` bits
cost nothing extra, so small arithmetic keeps its fast path.
"""
from __future__ import annotations

from . import budget

BIG_BITS = 1024          # below this, an integer operation costs no more than a step


def mul_steps(abits: int, bbits: int) -> int:
    """Steps to multiply integers of these bit sizes (Karatsuba past ~70 digits)."""
    lo, hi = (abits, bbits) if abits < bbits else (bbits, abits)
    if hi <= BIG_BITS:
        return 0
    ld, hd = lo / 30 + 1, hi / 30 + 1
    return int(hd * min(ld, 3 * ld ** 0.585)) >> 6


def div_steps(abits: int, bbits: int) -> int:
    """Steps to divide an `abits` integer by a `bbits` one (schoolbook: quotient x divisor)."""
    if abits <= BIG_BITS:
        return 0
    return ((max(abits - bbits, 0) + 30) * bbits >> 16) + (abits >> 9)


def quad_steps(bits: int) -> int:
    """Steps for quadratic work on `bits`-bit integers: gcd, decimal conversion, rationals."""
    if bits <= BIG_BITS:
        return 0
    return (bits * bits >> 17) + (bits >> 9)


def charge_mul(abits: int, bbits: int) -> None:
    """Charge for a multiplication of integers of these sizes."""
    if abits > BIG_BITS or bbits > BIG_BITS:
        budget.charge(mul_steps(abits, bbits))


def charge_div(abits: int, bbits: int) -> None:
    """Charge for a division of integers of these sizes."""
    if abits > BIG_BITS:
        budget.charge(div_steps(abits, bbits))


def charge_quad(bits: int) -> None:
    """Charge for quadratic work on integers of `bits` bits."""
    if bits > BIG_BITS:
        budget.charge(quad_steps(bits))


def charge_to_decimal(bits: int) -> None:
    """Charge for writing a `bits`-bit integer in decimal (divide and conquer over
    quadratic division: about twice a gcd's work)."""
    if bits > BIG_BITS:
        budget.charge(2 * quad_steps(bits))


def charge_from_decimal(ndigits: int) -> None:
    """Charge for reading `ndigits` decimal digits into an integer (CPython's
    quadratic `int()`, about a third of a gcd's work on the same size)."""
    if ndigits > 300:
        budget.charge(quad_steps(int(ndigits * 3.33)) // 3 + (ndigits >> 4))
