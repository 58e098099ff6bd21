"""`world repl`: open the world the command line names and run a session in it.

The session itself is `repl.session.Repl`; this module gives it the world
(`repl.cli` opens the one `--world PATH`, `--zeo HOST:PORT` or `--memory`
names, else the default image) and the history file that belongs to it.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import re
from typing import Any

from prompt_toolkit.history import FileHistory, History, InMemoryHistory

from world.objects.cli_support import open_from_args

from .cli_common import UsageError
from .render import theme_name
from .session import Repl

HISTORY_SUFFIX = ".history"


def history_path(world: object) -> str | None:
    """Where the input history of a world's REPL is kept (None: not kept)."""
    image = world.image  # type: ignore[attr-defined]
    if image.path:
        return image.path + HISTORY_SUFFIX
    if image.where.startswith("zeo://"):
        name = re.sub(r"[^\w.-]+", "_", image.where[len("zeo://"):])
        return os.path.join(os.path.expanduser("~"), f".world-zeo-{name}{HISTORY_SUFFIX}")
    return None


def history_for(world: object) -> History:
    """The history of a world's REPL: a file beside the image, or memory."""
    path = history_path(world)
    if path is None:
        return InMemoryHistory()
    try:
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError:
        return InMemoryHistory()
    return FileHistory(path)


def main(args: argparse.Namespace | None = None, w: Any = None) -> int:
    """Run the REPL on world `w` (default: the one `args` name) until Ctrl-D or `,quit`."""
    args = args or argparse.Namespace(memory=True)
    if w is None:
        with contextlib.closing(open_from_args(args)) as opened:
            return main(args, opened)
    try:
        theme = theme_name(getattr(args, "theme", None))
    except ValueError as e:
        raise UsageError(str(e)) from None
    repl = Repl(w, history=history_for(w), debug=bool(getattr(args, "debug", False)),
                theme=theme)
    return repl.run()
