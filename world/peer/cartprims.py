"""`(cartridge/save PATH)`: write the running program, paused here, as a cartridge file.

Only a program run as a cartridge (`world run FILE --pause-at N`, `world
cartridge run FILE`) can be saved: it runs in a fresh environment, so its
definitions can be written as source; the image's environment cannot.
"""
from __future__ import annotations

from typing import Any

from ..lisp.primitives import primitive


@primitive("cartridge/save", group="cartridge")
def cartridge_save(path: Any) -> str:
    """(cartridge/save "f.lispy.json"): write this evaluation, paused at this step, to the file
    (atomically); the program carries on. A resume from it replays this call without writing
    again. Returns the path. Only in a program run as a cartridge (`world run FILE --pause-at
    N`, `world cartridge run FILE`: a fresh environment, not the image)."""
    from .cartridge import save_here
    return save_here(path)
