"""Reading a `world-suspension/1` document: JSON in, checked fields out.

Every field is checked for type, range and shape before anything is built
from it (see suspend.py for the format); whatever is wrong is refused with
one SandboxError, never a Python exception. Nothing here runs or compiles:
Lisp text stays text until the environment is rebuilt.
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any, Iterable

from .budget import Limits
from .errors import SandboxError

FORMAT = "world-suspension/1"
MAX_BYTES = 64 * 1024 * 1024        # a suspension document, as text
MAX_NAME = 10_000                   # characters in a global or variable name
_LIMIT_FIELDS = {f.name: f.type for f in dataclasses.fields(Limits)}


def refuse(why: str) -> SandboxError:
    """The error for a suspension that cannot be loaded or resumed."""
    return SandboxError(f"suspension refused: {why}")


def parse(text: Any) -> tuple[str, int, int, Limits, tuple[str, ...], dict[str, Any]]:
    """The fields of the suspension `text` holds: program, step, delivered, limits,
    capabilities and environment part."""
    if type(text) is not str:
        raise refuse("expected text")
    if len(text) > MAX_BYTES:
        raise refuse(f"document longer than {MAX_BYTES} characters")
    try:
        doc = json.loads(text, parse_int=_parse_int, parse_constant=_no_constant)
    except (ValueError, RecursionError, MemoryError) as e:
        raise refuse(f"not JSON ({_first_line(e)})") from None
    return _check(doc)


def _first_line(e: BaseException) -> str:
    return (str(e).splitlines() or [type(e).__name__])[0][:200]


def _parse_int(s: str) -> int:
    if len(s.lstrip("-")) > 30:
        raise ValueError("number too large")
    return int(s)


def _no_constant(s: str) -> Any:
    raise ValueError(f"{s} is not allowed")


def _obj(x: Any, keys: Iterable[str], where: str) -> dict[str, Any]:
    """`x` as a JSON object with exactly `keys`."""
    keys = set(keys)
    if type(x) is not dict:
        raise refuse(f"{where} is not an object")
    if set(x) != keys:
        extra, missing = sorted(set(x) - keys), sorted(keys - set(x))
        raise refuse(f"{where}: " + (f"unknown field {extra[0][:40]!r}" if extra
                                      else f"missing field {missing[0]!r}"))
    return x


def _int(x: Any, where: str, top: int = 1 << 62) -> int:
    if type(x) is not int or not 0 <= x <= top:
        raise refuse(f"{where} is not a count between 0 and {top}")
    return x


def _str(x: Any, where: str, most: int = MAX_BYTES) -> str:
    if type(x) is not str or len(x) > most:
        raise refuse(f"{where} is not a string")
    return x


def _list(x: Any, where: str) -> list[Any]:
    if type(x) is not list:
        raise refuse(f"{where} is not a list")
    return x


def _name(x: Any, where: str) -> str:
    if type(x) is not str or not 0 < len(x) <= MAX_NAME or not x.isprintable():
        raise refuse(f"{where} is not a name")
    return x


def _value(v: Any, n_objects: int, where: str) -> None:
    """Check a value V: {"datum"|"primitive"|"void"|"ref": ...}."""
    if type(v) is not dict or len(v) != 1:
        raise refuse(f"{where} is not a value")
    (key, x), = v.items()
    if key == "datum":
        _str(x, where)
    elif key == "primitive":
        _name(x, where)
    elif key == "void":
        if x is not True:
            raise refuse(f"{where} is not a value")
    elif key == "ref":
        if type(x) is not int or not 0 <= x < n_objects:
            raise refuse(f"{where} refers to no object")
    else:
        raise refuse(f"{where} is not a value")


def _check_env(e: Any) -> dict[str, Any]:
    e = _obj(e, ("gensyms", "objects", "globals", "macros", "docs"), "environment")
    _int(e["gensyms"], "gensyms")
    objects = _list(e["objects"], "objects")
    n = len(objects)
    for i, o in enumerate(objects):
        where = f"object {i}"
        if type(o) is dict and set(o) == {"box"}:
            _value(o["box"], n, where)
            continue
        p = _obj(_obj(o, ("procedure",), where)["procedure"],
                 ("name", "self", "source", "captured"), where)
        _name(p["name"], f"{where} name")
        if type(p["self"]) is not bool:
            raise refuse(f"{where}: self is not true or false")
        _str(p["source"], f"{where} source")
        seen = set()
        for c in _list(p["captured"], f"{where} captured"):
            c = _obj(c, ("var", "boxed", "value"), f"{where} captured")
            var = _name(c["var"], f"{where} variable")
            if type(c["boxed"]) is not bool:
                raise refuse(f"{where}: boxed is not true or false")
            if var in seen:
                raise refuse(f"{where}: variable {var[:40]} captured twice")
            seen.add(var)
            _value(c["value"], n, f"{where} variable {var[:40]}")
            if c["boxed"] and not ("ref" in c["value"]      # a later object: not yet checked
                                   and type(objects[c["value"]["ref"]]) is dict
                                   and "box" in objects[c["value"]["ref"]]):
                raise refuse(f"{where}: variable {var[:40]} is boxed but holds no box")
    for part in ("globals", "macros"):
        for g in _list(e[part], part):
            if part == "macros" and type(g) is dict and set(g) == {"name", "syntax"}:
                _name(g["name"], "macro name")      # a syntax-rules macro, as its source text
                _str(g["syntax"], f"macro {g['name'][:40]}")
                continue
            g = _obj(g, ("name", "value"), part[:-1])
            _name(g["name"], f"{part[:-1]} name")
            _value(g["value"], n, f"{part[:-1]} {g['name'][:40]}")
    for m in e["macros"]:
        if "syntax" in m:
            continue
        ref = m["value"].get("ref")
        if ref is None or "procedure" not in objects[ref]:
            raise refuse(f"macro {m['name'][:40]} is not a procedure")
    for d in _list(e["docs"], "docs"):
        d = _obj(d, ("name", "doc"), "doc")
        _name(d["name"], "doc name")
        _str(d["doc"], "doc")
    return e


def _check_limits(x: Any) -> Limits:
    """Limits from their JSON object; a field this version does not know is refused."""
    if type(x) is not dict:
        raise refuse("limits is not an object")
    fields = {}
    for k, v in x.items():
        if k not in _LIMIT_FIELDS:
            raise refuse(f"unknown limit {k[:40]!r}")
        if type(v) not in (int, float) or v != v or not 0 <= v <= 1 << 62:
            raise refuse(f"limit {k} is not a number between 0 and {1 << 62}")
        fields[k] = float(v) if k == "seconds" else int(v)
    return Limits(**fields)


def _check(doc: Any) -> tuple[str, int, int, Limits, tuple[str, ...], dict[str, Any]]:
    """A Suspension's fields from a parsed JSON document, or a SandboxError."""
    if type(doc) is not dict or doc.get("format") != FORMAT:
        fmt = doc.get("format") if type(doc) is dict else None
        raise refuse(f"format is {str(fmt)[:40]!r}, not {FORMAT!r}" if fmt is not None
                      else f"not a {FORMAT} document")
    doc = _obj(doc, ("format", "program", "step", "delivered", "limits", "capabilities",
                     "environment"), "document")
    limits = _check_limits(doc["limits"])
    caps = tuple(_name(c, "capability") for c in _list(doc["capabilities"], "capabilities"))
    granted(caps)
    return (_str(doc["program"], "program"), _int(doc["step"], "step"),
            _int(doc["delivered"], "delivered"), limits, caps, _check_env(doc["environment"]))


def granted(caps: Iterable[str]) -> frozenset[str]:
    """The primitive names `caps` grant; unknown names are refused."""
    from .primitives import names_of
    try:
        return names_of(caps)
    except SandboxError as e:
        raise refuse(e.message) from None
