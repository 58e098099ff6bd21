"""The primitives: host procedures a sandbox may be granted.

Each primitive is a Python function registered under its Lisp name with
`@primitive`. Groups name capabilities: an environment is built from an
explicit set of groups (or names), and a child can only narrow it.
Primitives take and return Lisp values only, check their argument types and
raise the world's own errors, and charge the running budget for work
proportional to their input.
"""
from __future__ import annotations

from typing import Callable

from ..types import Primitive

GROUPS: dict[str, set[str]] = {}
UNSAFE: set[str] = set()
PYNAMES: dict[str, str] = {}      # Python function name -> Lisp name, for error messages


def primitive(name: str, group: str = "core", unsafe: bool = False,
              doc: str | None = None, inline: str | None = None) -> Callable[[Callable], Callable]:
    """Register the decorated function as the primitive `name`.

    `inline` is an optional Python expression over the arguments `{0}`, `{1}`...
    (and the runtime's helpers) that compiled code uses instead of a call; it
    must mean exactly what the function does for every argument.
    """
    def register(fn: Callable) -> Callable:
        prim = Primitive(name, fn, doc or (fn.__doc__ or "").strip())
        prim.inline = inline
        Primitive.registry[name] = prim
        GROUPS.setdefault(group, set()).add(name)
        PYNAMES[fn.__name__] = name
        if unsafe:
            UNSAFE.add(name)
        return fn
    return register


def load() -> dict[str, Primitive]:
    """Import every primitive module and return the registry."""
    from . import core, numbers, powers, numtext, lists, strings, data, io  # noqa: F401
    return Primitive.registry
