"""Where a REPL receives the companion's answers as they arrive.

A REPL attaches a sink to its world; a companion form running in that world streams its
answer into the sink piece by piece and shows its proposals there, then marks the value it
returns as shown, so the REPL does not print the same text again. Without a sink (a script,
`world eval`), the forms only return their values.
"""
from __future__ import annotations

import weakref
from typing import Any, Protocol


class Sink(Protocol):
    """What a REPL provides to receive the companion's output."""

    def text(self, piece: str) -> None:
        """A piece of a streamed answer."""

    def end(self, note: str) -> None:
        """The streamed answer is complete; `note` says what it cost."""

    def proposal(self, p: Any, note: str) -> None:
        """A proposal is on offer (`,yes` accepts it)."""

    def refused(self, line: str) -> None:
        """A suggestion was refused, for the one-line reason given."""


SINKS: "weakref.WeakKeyDictionary[Any, Sink]" = weakref.WeakKeyDictionary()
SHOWN: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()
_NONE = object()        # nothing was shown (None is a value: the empty list)


def attach(world: Any, sink: Sink) -> None:
    """Send the companion's output in `world` to `sink`."""
    SINKS[world] = sink


def detach(world: Any) -> None:
    """Stop sending the companion's output in `world` anywhere."""
    SINKS.pop(world, None)


def sink_of(world: Any) -> Sink | None:
    """The sink attached to `world`, if any (and still alive: its REPL may have ended)."""
    sink = SINKS.get(world)
    return sink if sink is not None and getattr(sink, "alive", True) else None


def shown(world: Any, value: Any) -> Any:
    """Mark `value` (about to be returned) as already shown by the sink; return it."""
    SHOWN[world] = value        # the value itself: an id could be reused once it is freed
    return value


def was_shown(world: Any, value: Any) -> bool:
    """Whether the REPL should not print `value`: the sink showed it (asked once per value)."""
    return SHOWN.pop(world, _NONE) is value
