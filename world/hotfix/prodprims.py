"""The production side's forms: `(debug/open)` and `(hotfix/log)`."""
from __future__ import annotations

import time
from typing import Any

from ..lisp.errors import EvalError, LispTypeError
from ..lisp.primitives import primitive
from ..lisp.types import Keyword, LispMap, make_list
from ..objects.prims import _world
from . import hotlog


@primitive("debug/open", group="net")
def debug_open(*note: Any) -> bool:
    """(debug/open ["note"]) opens the hot-fix channel to the hub (in `world serve-prod`);
    with a note, sends it as a report. #t once asked."""
    from . import prod
    if len(note) > 1 or (note and type(note[0]) is not str):
        raise LispTypeError("debug/open: expected at most one note (a string)")
    runner = prod.CURRENT
    if runner is None or not runner.debug_open(note[0] if note else None):
        raise EvalError("debug/open: no hub to open a channel to: run the image with "
                        "`world serve-prod IMAGE --hub wss://HOST:PORT --tls DIR ...`")
    return True


@primitive("hotfix/log", group="reflect")
def hotfix_log() -> Any:
    """(hotfix/log) -> the hot-fixes applied to or refused by this image, oldest first:
    maps of :number :time :key :names :commits :outcome."""
    w = _world("hotfix/log")
    rows = []
    for e in hotlog.entries(w.image.root.settings):
        rows.append(LispMap([
            (Keyword("number"), e.number),
            (Keyword("time"), time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(e.time))),
            (Keyword("key"), e.key), (Keyword("names"), tuple(e.names)),
            (Keyword("commits"), tuple(e.commits)), (Keyword("outcome"), e.outcome)]))
    return make_list(rows)
