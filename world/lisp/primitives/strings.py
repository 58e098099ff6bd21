"""String and character primitives.

Strings are immutable Python `str`, characters are interned `Char`. Work on
a string charges a step per 16 characters; a string whose length the
program controls is checked against the size limit before it is built.
"""
from __future__ import annotations

import unicodedata
from typing import Any, Callable

from .. import budget
from ..calls import call
from ..errors import EvalError
from ..types import Char, Symbol, VOID, make_list
from . import primitive
from .lists import elements, new_list
from .numbers import ABSENT, need_count, need_index, need_int, need_proc, need_range, show, type_error


# ---------------------------------------------------------------- helpers

def need_string(who: str, s: Any) -> str:
    """`s`, or a type error if it is not a string."""
    if type(s) is not str:
        raise type_error(who, "a string", s)
    return s


def need_char(who: str, c: Any) -> str:
    """The text of the character `c`, or a type error if it is not one."""
    if type(c) is not Char:
        raise type_error(who, "a character", c)
    return c.c


def _scan(s: str) -> str:
    """`s`, charging for a pass over it."""
    budget.charge(len(s) >> 4)
    return s


def _made(s: str) -> str:
    """A new string of a size the program chose, refused if it is too long."""
    budget.check_length(len(s), "string")
    budget.charge(len(s) >> 4)
    return s


# ---------------------------------------------------------------- strings

@primitive("string?")
def is_string(x: Any) -> bool:
    """(string? x) -> whether x is a string."""
    return type(x) is str


@primitive("string-length")
def string_length(s: Any) -> int:
    """(string-length s) -> the number of characters in s."""
    return len(need_string("string-length", s))


@primitive("string-ref")
def string_ref(s: Any, k: Any) -> Char:
    """(string-ref s k) -> character k of s, counting from 0."""
    need_string("string-ref", s)
    return Char(s[need_index("string-ref", k, len(s))])


@primitive("substring")
def substring(s: Any, start: Any, end: Any = ABSENT) -> str:
    """(substring s start [end]) -> the characters of s from start up to end."""
    need_string("substring", s)
    start, end = need_range("substring", start, end, len(s))
    budget.alloc(end - start)
    return _scan(s[start:end])


@primitive("string-copy")
def string_copy(s: Any, start: Any = 0, end: Any = ABSENT) -> str:
    """(string-copy s [start [end]]) -> the characters of s from start up to end."""
    need_string("string-copy", s)
    start, end = need_range("string-copy", start, end, len(s))
    budget.alloc(end - start)
    return _scan(s[start:end])


@primitive("string-append")
def string_append(*strings: Any) -> str:
    """(string-append s ...) -> the strings joined."""
    for s in strings:
        need_string("string-append", s)
    budget.check_length(sum(map(len, strings)), "string")
    return _scan("".join(strings))


@primitive("make-string")
def make_string(n: Any, fill: Any = Char(" ")) -> str:
    """(make-string n [char]) -> a string of n copies of char (default space)."""
    need_count("make-string", n)
    c = need_char("make-string", fill)
    budget.check_length(n, "string")
    return _scan(c * n)


@primitive("string")
def string(*chars: Any) -> str:
    """(string char ...) -> the string of the characters."""
    budget.charge(len(chars) >> 4)
    budget.alloc(len(chars))
    return "".join(need_char("string", c) for c in chars)


@primitive("string->list")
def string_to_list(s: Any, start: Any = 0, end: Any = ABSENT) -> Any:
    """(string->list s [start [end]]) -> the list of the characters of s from start up to end."""
    need_string("string->list", s)
    start, end = need_range("string->list", start, end, len(s))
    budget.check_length(end - start, "list")
    budget.charge(end - start)
    return make_list([Char(c) for c in s[start:end]])


@primitive("list->string")
def list_to_string(lst: Any) -> str:
    """(list->string chars) -> the string of the characters in the list."""
    chars = elements("list->string", lst)
    budget.check_length(len(chars), "string")
    return "".join(need_char("list->string", c) for c in chars)


@primitive("string-upcase")
def string_upcase(s: Any) -> str:
    """(string-upcase s) -> s in upper case."""
    return _made(_scan(need_string("string-upcase", s)).upper())


@primitive("string-downcase")
def string_downcase(s: Any) -> str:
    """(string-downcase s) -> s in lower case."""
    return _made(_scan(need_string("string-downcase", s)).lower())


# ---------------------------------------------------------------- comparing

def _compare(who: str, test: Callable[[str, str], bool], args: tuple,
             fold: Callable[[str], str] | None = None) -> bool:
    for s in args:
        _scan(need_string(who, s))
    if fold is not None:
        args = tuple(fold(s) for s in args)
    return all(test(args[i], args[i + 1]) for i in range(len(args) - 1))


@primitive("string=?")
def string_eq(s: Any, *rest: Any) -> bool:
    """(string=? s ...) -> whether the strings are all equal."""
    return _compare("string=?", lambda a, b: a == b, (s,) + rest)


@primitive("string<?")
def string_lt(s: Any, *rest: Any) -> bool:
    """(string<? s ...) -> whether the strings strictly increase (by code point)."""
    return _compare("string<?", lambda a, b: a < b, (s,) + rest)


@primitive("string>?")
def string_gt(s: Any, *rest: Any) -> bool:
    """(string>? s ...) -> whether the strings strictly decrease (by code point)."""
    return _compare("string>?", lambda a, b: a > b, (s,) + rest)


@primitive("string<=?")
def string_le(s: Any, *rest: Any) -> bool:
    """(string<=? s ...) -> whether the strings never decrease (by code point)."""
    return _compare("string<=?", lambda a, b: a <= b, (s,) + rest)


@primitive("string>=?")
def string_ge(s: Any, *rest: Any) -> bool:
    """(string>=? s ...) -> whether the strings never increase (by code point)."""
    return _compare("string>=?", lambda a, b: a >= b, (s,) + rest)


@primitive("string-ci=?")
def string_ci_eq(s: Any, *rest: Any) -> bool:
    """(string-ci=? s ...) -> whether the strings are equal ignoring case."""
    return _compare("string-ci=?", lambda a, b: a == b, (s,) + rest, str.casefold)


@primitive("string-prefix?")
def string_prefix(prefix: Any, s: Any) -> bool:
    """(string-prefix? prefix s) -> whether s starts with prefix."""
    need_string("string-prefix?", prefix)
    return need_string("string-prefix?", s).startswith(_scan(prefix))


@primitive("string-suffix?")
def string_suffix(suffix: Any, s: Any) -> bool:
    """(string-suffix? suffix s) -> whether s ends with suffix."""
    need_string("string-suffix?", suffix)
    return need_string("string-suffix?", s).endswith(_scan(suffix))


# ---------------------------------------------------------------- searching and splitting

@primitive("string-index")
def string_index(s: Any, what: Any) -> Any:
    """(string-index s char-or-pred) -> the index of the first matching character, or #f."""
    need_string("string-index", s)
    if type(what) is Char:
        i = _scan(s).find(what.c)
        return False if i < 0 else i
    need_proc("string-index", what)
    budget.charge(len(s))
    for i, c in enumerate(s):
        if call(what, Char(c)) is not False:
            return i
    return False


@primitive("string-contains")
def string_contains(s: Any, sub: Any) -> Any:
    """(string-contains s sub) -> the index where sub first occurs in s, or #f."""
    need_string("string-contains", s)
    need_string("string-contains", sub)
    i = _scan(s).find(sub)
    return False if i < 0 else i


@primitive("string-split")
def string_split(s: Any, sep: Any = ABSENT) -> Any:
    """(string-split s [sep]) -> the list of the pieces of s between occurrences of the
    string or character sep; without sep, the words between runs of whitespace."""
    need_string("string-split", s)
    budget.alloc(len(s))            # the pieces
    if sep is ABSENT:
        return new_list(_scan(s).split())
    text = sep.c if type(sep) is Char else need_string("string-split", sep)
    if not text:
        raise EvalError("string-split: empty separator")
    budget.check_length(_scan(s).count(text) + 1, "list")
    budget.charge(s.count(text) + 1)
    return make_list(s.split(text))


@primitive("string-join")
def string_join(lst: Any, sep: Any = " ") -> str:
    """(string-join strings [sep]) -> the strings joined with sep (default a space) between."""
    parts = elements("string-join", lst)
    for p in parts:
        need_string("string-join", p)
    need_string("string-join", sep)
    total = sum(map(len, parts)) + len(sep) * max(0, len(parts) - 1)
    budget.check_length(total, "string")
    return _scan(sep.join(parts))


@primitive("string-trim")
def string_trim(s: Any) -> str:
    """(string-trim s) -> s without whitespace at either end."""
    return _made(_scan(need_string("string-trim", s)).strip())


@primitive("string-trim-left")
def string_trim_left(s: Any) -> str:
    """(string-trim-left s) -> s without whitespace at the start."""
    return _made(_scan(need_string("string-trim-left", s)).lstrip())


@primitive("string-trim-right")
def string_trim_right(s: Any) -> str:
    """(string-trim-right s) -> s without whitespace at the end."""
    return _made(_scan(need_string("string-trim-right", s)).rstrip())


# ---------------------------------------------------------------- strings and procedures

def _string_columns(who: str, strings: tuple) -> list[tuple[Char, ...]]:
    for s in strings:
        need_string(who, s)
    n = min(map(len, strings))
    budget.charge(n)
    return [tuple(Char(s[i]) for s in strings) for i in range(n)]


@primitive("string-map")
def string_map(f: Any, s: Any, *more: Any) -> str:
    """(string-map f s ...) -> the string of (f c ...) for characters taken in step."""
    need_proc("string-map", f)
    out = []
    for cs in _string_columns("string-map", (s,) + more):
        out.append(need_char("string-map", call(f, *cs)))
    budget.alloc(len(out))
    return "".join(out)


@primitive("string-for-each")
def string_for_each(f: Any, s: Any, *more: Any) -> Any:
    """(string-for-each f s ...) -> calls (f c ...) on characters taken in step, for effect."""
    need_proc("string-for-each", f)
    for cs in _string_columns("string-for-each", (s,) + more):
        call(f, *cs)
    return VOID


# ---------------------------------------------------------------- symbols

@primitive("string->symbol")
def string_to_symbol(s: Any) -> Symbol:
    """(string->symbol s) -> the symbol named s."""
    return Symbol(_scan(need_string("string->symbol", s)))


@primitive("symbol->string")
def symbol_to_string(x: Any) -> str:
    """(symbol->string sym) -> the name of sym."""
    if type(x) is not Symbol:
        raise type_error("symbol->string", "a symbol", x)
    return x.name


# ---------------------------------------------------------------- characters

@primitive("char?")
def is_char(x: Any) -> bool:
    """(char? x) -> whether x is a character."""
    return type(x) is Char


@primitive("char->integer")
def char_to_integer(c: Any) -> int:
    """(char->integer c) -> the Unicode code point of c."""
    return ord(need_char("char->integer", c))


@primitive("integer->char")
def integer_to_char(n: Any) -> Char:
    """(integer->char n) -> the character with Unicode code point n."""
    need_int("integer->char", n)
    if not (0 <= n < 0xD800 or 0xE000 <= n <= 0x10FFFF):
        raise EvalError(f"integer->char: {show(n)} is not a Unicode scalar value")
    return Char(chr(n))


def _case(c: str, changed: str) -> Char:
    """The changed character, or the original when the change is not one character (ß -> SS)."""
    return Char(changed if len(changed) == 1 else c)


@primitive("char-upcase")
def char_upcase(c: Any) -> Char:
    """(char-upcase c) -> the upper-case form of c."""
    text = need_char("char-upcase", c)
    return _case(text, text.upper())


@primitive("char-downcase")
def char_downcase(c: Any) -> Char:
    """(char-downcase c) -> the lower-case form of c."""
    text = need_char("char-downcase", c)
    return _case(text, text.lower())


@primitive("char-alphabetic?")
def char_alphabetic(c: Any) -> bool:
    """(char-alphabetic? c) -> whether c is a letter."""
    return need_char("char-alphabetic?", c).isalpha()


@primitive("char-numeric?")
def char_numeric(c: Any) -> bool:
    """(char-numeric? c) -> whether c is a decimal digit."""
    return need_char("char-numeric?", c).isdecimal()


@primitive("char-whitespace?")
def char_whitespace(c: Any) -> bool:
    """(char-whitespace? c) -> whether c is white space."""
    return need_char("char-whitespace?", c).isspace()


@primitive("char-upper-case?")
def char_upper_case(c: Any) -> bool:
    """(char-upper-case? c) -> whether c is an upper-case letter."""
    return need_char("char-upper-case?", c).isupper()


@primitive("char-lower-case?")
def char_lower_case(c: Any) -> bool:
    """(char-lower-case? c) -> whether c is a lower-case letter."""
    return need_char("char-lower-case?", c).islower()


@primitive("digit-value")
def digit_value(c: Any) -> Any:
    """(digit-value c) -> the value 0-9 of the decimal digit c, or #f."""
    value = unicodedata.decimal(need_char("digit-value", c), None)
    return False if value is None else value


def _compare_chars(who: str, test: Callable[[str, str], bool], args: tuple,
                   fold: Callable[[str], str] | None = None) -> bool:
    texts = [need_char(who, c) for c in args]
    if fold is not None:
        texts = [fold(t) for t in texts]
    budget.charge(len(texts) >> 4)
    return all(test(texts[i], texts[i + 1]) for i in range(len(texts) - 1))


@primitive("char=?")
def char_eq(c: Any, *rest: Any) -> bool:
    """(char=? c ...) -> whether the characters are all equal."""
    return _compare_chars("char=?", lambda a, b: a == b, (c,) + rest)


@primitive("char<?")
def char_lt(c: Any, *rest: Any) -> bool:
    """(char<? c ...) -> whether the code points strictly increase."""
    return _compare_chars("char<?", lambda a, b: a < b, (c,) + rest)


@primitive("char>?")
def char_gt(c: Any, *rest: Any) -> bool:
    """(char>? c ...) -> whether the code points strictly decrease."""
    return _compare_chars("char>?", lambda a, b: a > b, (c,) + rest)


@primitive("char<=?")
def char_le(c: Any, *rest: Any) -> bool:
    """(char<=? c ...) -> whether the code points never decrease."""
    return _compare_chars("char<=?", lambda a, b: a <= b, (c,) + rest)


@primitive("char>=?")
def char_ge(c: Any, *rest: Any) -> bool:
    """(char>=? c ...) -> whether the code points never increase."""
    return _compare_chars("char>=?", lambda a, b: a >= b, (c,) + rest)


@primitive("char-ci=?")
def char_ci_eq(c: Any, *rest: Any) -> bool:
    """(char-ci=? c ...) -> whether the characters are equal ignoring case."""
    return _compare_chars("char-ci=?", lambda a, b: a == b, (c,) + rest, str.casefold)
