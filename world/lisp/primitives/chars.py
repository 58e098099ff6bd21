"""R7RS character, string and symbol procedures beyond strings.py's: case folding,
the case-insensitive comparisons, `symbol=?`."""
from __future__ import annotations

from typing import Any

from ..types import Char, Symbol
from . import primitive
from .numbers import type_error
from .strings import _case, _compare, _compare_chars, _made, _scan, need_char, need_string


@primitive("char-foldcase")
def char_foldcase(c: Any) -> Char:
    """(char-foldcase c) -> c case-folded (as char-downcase, for the characters that fold to one)."""
    text = need_char("char-foldcase", c)
    return _case(text, text.casefold())


@primitive("string-foldcase")
def string_foldcase(s: Any) -> str:
    """(string-foldcase s) -> s case-folded, for comparing without case."""
    return _made(_scan(need_string("string-foldcase", s)).casefold())


def _ci(name: str, op: str, test: Any, strings: bool) -> None:
    compare = _compare if strings else _compare_chars
    kind = "strings" if strings else "characters"

    def fn(a: Any, *rest: Any) -> bool:
        return compare(name, test, (a,) + rest, str.casefold)
    fn.__name__ = name.replace("-", "_").replace("?", "_p").replace("<", "lt").replace(">", "gt").replace("=", "eq")
    fn.__doc__ = f"({name} x y ...) -> whether each of the {kind} is {op} the next, ignoring case."
    primitive(name)(fn)


for _op, _test in (("<", lambda a, b: a < b), (">", lambda a, b: a > b),
                   ("<=", lambda a, b: a <= b), (">=", lambda a, b: a >= b)):
    _ci(f"string-ci{_op}?", _op, _test, True)
    _ci(f"char-ci{_op}?", _op, _test, False)


@primitive("symbol=?")
def symbol_eq(a: Any, b: Any, *rest: Any) -> bool:
    """(symbol=? a b ...) -> whether the symbols are all the same."""
    for x in (a, b) + rest:
        if type(x) is not Symbol:
            raise type_error("symbol=?", "a symbol", x)
    return all(x is a for x in (b,) + rest)
