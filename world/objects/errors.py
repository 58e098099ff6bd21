"""Errors of the persistent object space.

Each is a `LispError`: one line, the user's to act on, never a lost world.
"""
from __future__ import annotations

from ..lisp.errors import LispError


class ImageError(LispError):
    """A world image cannot be opened or written: names the path and what to do."""

    kind = "image error"


class ConcurrentDefinition(LispError):
    """Another session changed the same name while this form was running."""

    kind = "conflict"


class ReadOnlyWorld(ImageError):
    """The world was opened read-only and a form tried to change it."""

    kind = "read-only world"


class ServerLost(ImageError):
    """The ZEO server stopped answering: the form was rolled back; the client reconnects
    by itself when the server is back."""
