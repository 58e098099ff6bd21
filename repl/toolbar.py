"""The bottom toolbar: where the world lives, its pending and last commits,
and what the last evaluation cost.
"""
from __future__ import annotations

from typing import Any

from prompt_toolkit.formatted_text import FormattedText

from world.inspect import history_status
from world.lisp.errors import LispError


def where(world: Any) -> str:
    """The image path, ZEO address or `<memory>` of a world."""
    image = world.image
    return image.path or image.where


def connected(world: Any) -> bool:
    """False while the ZEO server of a world is unreachable (its client reconnects by itself)."""
    is_connected = getattr(world.image.db.storage, "is_connected", None)
    return is_connected is None or bool(is_connected())


def fields(world: Any, last_steps: int | None, budget: int) -> list[tuple[str, str]]:
    """The toolbar's (name, value) pairs, in order."""
    up = connected(world)
    pending, last = "—", None
    if up:                      # a load would wait for the server: the toolbar must not
        try:
            count, last = history_status(world)
            pending = str(count)
        except LispError:       # lost meanwhile
            up = False
    steps = "—" if last_steps is None else f"{last_steps:,}"
    state = "" if up else " (disconnected: reconnecting)"
    return [("world", where(world) + (" (read-only)" if world.image.read_only else "") + state),
            ("pending", pending),
            ("last commit", last or "—"),
            ("steps", f"{steps} of {budget:,}")]


def toolbar(world: Any, last_steps: int | None, budget: int) -> FormattedText:
    """The toolbar as formatted text."""
    parts: list[tuple[str, str]] = []
    for i, (name, value) in enumerate(fields(world, last_steps, budget)):
        if i:
            parts.append(("class:bottom-toolbar.sep", " │ "))
        parts += [("class:bottom-toolbar.key", f"{name} "), ("class:bottom-toolbar.value", value)]
    return FormattedText([("class:bottom-toolbar", " ")] + parts)


def text(world: Any, last_steps: int | None, budget: int) -> str:
    """The toolbar as plain text (for tests and logs)."""
    return "".join(t for _, t in toolbar(world, last_steps, budget))
