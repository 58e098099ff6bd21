"""Lisp values as JSON text, for `--json`: without recursion, one step per node.

`json.dumps` recurses on nesting, so a value 3 000 levels deep would end in
a RecursionError, and a shared structure (a DAG) is expanded once per path,
so a small value can stand for an astronomical text. Here the text is built
with an explicit stack, and every node visited is charged to a budget: the
rest of the budget of the form that made the value (`json_for`), so a value
too big to convert ends as a clean `budget exceeded` error.

Lists and vectors are arrays, maps objects, symbols strings, the empty list
`[]`, an improper list `{"list": [...], "tail": ...}`, anything else its
written text.
"""
from __future__ import annotations

import json
import math
from fractions import Fraction
from typing import Any

from world.lisp import budget
from world.lisp.budget import Limits, remainder
from world.lisp.errors import BudgetExceeded
from world.lisp.printer import write
from world.lisp.types import Char, Keyword, LispMap, Pair, Symbol

__all__ = ["json_text", "json_for"]

BATCH = 256         # nodes converted between charges
NODE_STEPS = 10     # a node takes ~1 us to convert; a step is ~0.1 us (see world.lisp.cost)


class _Raw(str):
    """Text already in JSON form, pushed on the work stack between values."""


def _key(k: Any) -> str:
    """A map key as a JSON object key."""
    if type(k) is Keyword or type(k) is Symbol:
        return k.name
    return k if type(k) is str else write(k)


def json_text(value: Any, ascii: bool = False) -> str:
    """`value` as JSON text (non-ASCII escaped when `ascii`), charging the running budget."""
    charge = budget.charge
    parts: list[str] = []
    todo: list[Any] = [value]
    sep, colon = ", ", ": "
    nodes = 0

    def string(s: str) -> str:
        charge(len(s) >> 6)
        return json.dumps(s, ensure_ascii=ascii)

    while todo:
        x = todo.pop()
        t = type(x)
        if t is _Raw:
            parts.append(x)
            continue
        nodes += 1
        if nodes == BATCH:          # charged in batches: a call per node would double the cost
            charge(nodes * NODE_STEPS)
            nodes = 0
        if x is None:
            parts.append("[]")
        elif t is bool:
            parts.append("true" if x else "false")
        elif t is str:
            parts.append(string(x))
        elif t is int:
            # The printer handles (and charges) digits past Python's 4300-digit limit.
            parts.append(str(x) if x.bit_length() < 14_000 else write(x))
        elif t is float:
            parts.append(repr(x) if math.isfinite(x) else string(write(x)))
        elif t is Symbol:
            parts.append(string(x.name))
        elif t is Fraction or t is Keyword or t is Char:
            parts.append(string(write(x)))
        elif t is tuple or t is list:
            _sequence(x, todo, parts, sep)
        elif t is Pair:
            items = []
            while type(x) is Pair:
                items.append(x.car)
                x = x.cdr
            charge(len(items) >> 4)
            if x is None:
                _sequence(items, todo, parts, sep)
            else:
                parts.append('{"list"' + colon)
                todo.append(_Raw("}"))
                todo.append(x)
                todo.append(_Raw(sep + '"tail"' + colon))
                _sequence(items, todo, parts, sep)
        elif t is LispMap or isinstance(x, dict):
            entries = list(x.items())
            charge(len(entries) >> 4)
            _object([(string(_key(k) if t is LispMap else str(k)), v) for k, v in entries],
                    todo, parts, sep, colon)
        else:
            parts.append(string(write(x)))
    charge(nodes * NODE_STEPS)
    return "".join(parts)


def _sequence(items: Any, todo: list[Any], parts: list[str], sep: str) -> None:
    """Open an array and push its elements (first on top) and its closing bracket."""
    parts.append("[")
    todo.append(_Raw("]"))
    first = True
    for v in reversed(items):
        if not first:
            todo.append(_Raw(sep))
        todo.append(v)
        first = False


def _object(entries: list[tuple[str, Any]], todo: list[Any], parts: list[str], sep: str,
            colon: str) -> None:
    """Open an object and push its entries (first on top) and its closing brace."""
    parts.append("{")
    todo.append(_Raw("}"))
    for i, (k, v) in enumerate(reversed(entries)):
        todo.append(v)
        todo.append(_Raw(("" if i == len(entries) - 1 else sep) + k + colon))


def json_for(value: Any, limits: Limits, spent: int = 0, elapsed: float = 0.0,
             ascii: bool = False) -> str:
    """`value` as JSON text, under what `limits` leave after `spent` steps and `elapsed` s."""
    from world.lisp.runtime import on_big_stack
    return on_big_stack(lambda: _json_for(value, limits, spent, elapsed, ascii))   # where meters run


def _json_for(value: Any, limits: Limits, spent: int, elapsed: float, ascii: bool) -> str:
    try:
        with remainder(limits, spent, elapsed, "converting the value to JSON"):
            return json_text(value, ascii)
    except RecursionError:      # a map key nested too deep for the printer
        raise BudgetExceeded("depth", "value nested too deeply to convert to JSON") from None
