"""The persistent object space: a world's definitions, snapshots and metadata
in a ZODB database, opened from an image file, a ZEO server or memory."""
from . import prims  # noqa: F401  (registers the `world` primitives)
from . import migrate  # noqa: F401  (record redefinitions search the world's definitions)
from .errors import ConcurrentDefinition, ImageError, ReadOnlyWorld

__all__ = ["ConcurrentDefinition", "ImageError", "ReadOnlyWorld"]
