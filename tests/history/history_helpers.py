"""Small helpers shared by the history and audit tests."""
from __future__ import annotations

from typing import Any, Callable

import persistent
import transaction
import ZODB
from ZODB.FileStorage import FileStorage

import world


def kw(m: Any, key: str) -> Any:
    """`(get m :key)` from Python."""
    return m.get(world.read(":" + key))


def user_log(w: world.World, name: str | None = None) -> list[Any]:
    """The history log (of `name`) as a Python list of maps, without the default rules."""
    from world.lisp.types import to_pylist
    text = "(history/log)" if name is None else f"(history/log '{name})"
    return [m for m in to_pylist(w.eval(text)) if world.write(kw(m, "kind")) != "defrule"]


def tamper(image: str, change: Callable[[Any], None]) -> None:
    """Change the stored world with raw ZODB, behind the world's back, as an attacker would."""
    db = ZODB.DB(FileStorage(image))
    try:
        tm = transaction.TransactionManager()
        change(db.open(tm).root()["world"])
        tm.commit()
    finally:
        db.close()


def set_(obj: Any, name: str, value: Any) -> None:
    """Set an attribute past Frozen's guard."""
    persistent.Persistent.__setattr__(obj, name, value)
