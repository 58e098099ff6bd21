"""Small helpers shared by the history and audit tests."""
from __future__ import annotations

from typing import Any

import world


def kw(m: Any, key: str) -> Any:
    """`(get m :key)` from Python."""
    return m.get(world.read(":" + key))


def user_log(w: world.World, name: str | None = None) -> list[Any]:
    """The history log (of `name`) as a Python list of maps, without the default rules."""
    from world.lisp.types import to_pylist
    text = "(history/log)" if name is None else f"(history/log '{name})"
    return [m for m in to_pylist(w.eval(text)) if world.write(kw(m, "kind")) != "defrule"]
