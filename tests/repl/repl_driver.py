"""Driving a real REPL session with pipe input, for the REPL tests."""
from __future__ import annotations

import io
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from prompt_toolkit.output.plain_text import PlainTextOutput

from repl.session import Repl

STUCK_AFTER = 60        # seconds a driven session may take before it is ended as stuck


@dataclass
class Run:
    """What a driven session did: its exit status, what it printed, the session."""

    status: int
    text: str
    repl: Repl


def drive(w: Any, *keys: str, before: Callable[[Repl], Any] | None = None, **options: Any) -> Run:
    """Type `keys` into a REPL on `w` (Ctrl-D is added at the end) and run it to the end."""
    out = io.StringIO()
    with create_pipe_input() as pipe:
        repl = Repl(w, input=pipe, output=DummyOutput(), show_output=PlainTextOutput(out),
                    **options)
        if before is not None:
            before(repl)
        for k in keys:
            pipe.send_text(k)
        pipe.send_text("\x04")
        stuck: list[bool] = []

        def unstick() -> None:         # a session that swallowed its Ctrl-D: end it, then fail
            stuck.append(True)
            for _ in range(5):
                pipe.send_text("\x03\x04")
                time.sleep(1)

        watchdog = threading.Timer(STUCK_AFTER, unstick)
        watchdog.daemon = True
        watchdog.start()
        try:
            status = repl.run()
        finally:
            watchdog.cancel()
    assert not stuck, f"the session did not finish its input; it printed:\n{out.getvalue()}"
    return Run(status, out.getvalue(), repl)
