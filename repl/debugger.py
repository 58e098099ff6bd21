"""The REPL's debugger: after an error, `,frames` lists its Lisp frames,
`,frame N` shows one frame's local variables, `,retry` runs the failed form again.

The frames come from the error itself (`LispError.frames`, read off the
Python traceback only as the error unwinds, so normal calls pay nothing);
they are listed innermost first, as the error's backtrace is, and numbered
from 0. A frame's locals are the Lisp variables bound in that procedure (its
parameters, `let`s, and the variables of enclosing procedures it uses), as
they were when the error passed through; only the innermost
`runtime.LOCALS_KEPT` frames keep them.
"""
from __future__ import annotations

from typing import Any

from prompt_toolkit.formatted_text import FormattedText

from world.lisp.errors import Frame, LispError
from world.lisp.printer import write

from . import render
from .commands import CommandError, command

FRAMES_SHOWN = 40       # frames `,frames` lists before "… N more"
VALUE_CHARS = 300       # characters of a local's written value shown


class Failure:
    """The last error of the session and, if a form raised it, that form."""

    __slots__ = ("error", "form", "typed", "source")

    def __init__(self, error: LispError, form: Any = None, typed: str | None = None,
                 source: str | None = None) -> None:
        self.error, self.form, self.typed, self.source = error, form, typed, source


def frame_line(i: int, f: Frame) -> FormattedText:
    """`  N  name at where`."""
    where = f.where()
    parts = [("class:note", f"{i:>3}  "), ("class:tree.key", f.name)]
    if where:
        parts += [("class:note", " at "), ("", where)]
    return FormattedText(parts)


def frames_text(failure: Failure | None, limit: int = FRAMES_SHOWN) -> FormattedText:
    """The `,frames` listing for the last failure."""
    e = _error(failure)
    frames = getattr(e, "frames", [])
    if not frames:
        return render.note(f"the last error has no Lisp frames ({_headline(e)})")
    parts: list[tuple[str, str]] = [("class:note", f"{_headline(e)}\nframes, innermost first "
                                                  "(,frame N shows its locals):")]
    for i, f in enumerate(frames[:limit]):
        parts.append(("", "\n"))
        parts += frame_line(i, f)
    if len(frames) > limit:
        parts += [("", "\n"), ("class:note", f"  … {len(frames) - limit:,} more frames, "
                                             f"the outermost {frames[-1].name}")]
    return FormattedText(parts)


def frame_text(failure: Failure | None, arg: str) -> FormattedText:
    """The `,frame N` view: where the frame is and its local variables."""
    e = _error(failure)
    try:
        i = int(arg) if arg else 0
    except ValueError:
        raise CommandError(f",frame: expected a frame number, got {arg!r}") from None
    frames = getattr(e, "frames", [])
    if not frames:
        raise CommandError(",frame: the last error has no Lisp frames")
    if not 0 <= i < len(frames):
        raise CommandError(f",frame: no frame {i}; the frames are 0 to {len(frames) - 1}")
    f = frames[i]
    parts: list[tuple[str, str]] = list(frame_line(i, f))
    if f.locals is None:
        parts += [("", "\n"), ("class:note", "  (locals are kept for the innermost frames only)")]
    elif not f.locals:
        parts += [("", "\n"), ("class:note", "  no local variables")]
    for name, value in f.locals or ():
        text = write(value, limit=VALUE_CHARS)
        parts += [("", "\n  "), ("class:tree.key", name), ("class:note", " = ")]
        parts += render.code(text)
    return FormattedText(parts)


def _error(failure: Failure | None) -> LispError:
    if failure is None:
        raise CommandError("no error yet: the debugger looks at the last error")
    return failure.error


def _headline(e: LispError) -> str:
    text = str(e)
    return text if len(text) <= 200 else text[:199] + "…"


# ---------------------------------------------------------------- the commands

@command("frames", "the Lisp frames of the last error, innermost first")
def cmd_frames(repl: Any, arg: str) -> None:
    """,frames: list the last error's frames."""
    repl.show(frames_text(repl.failure))


@command("frame", "N: the local variables of frame N of the last error")
def cmd_frame(repl: Any, arg: str) -> None:
    """,frame N: one frame and its locals."""
    repl.show(frame_text(repl.failure, arg))


@command("retry", "run the form that failed last again (after you fix what it needed)")
def cmd_retry(repl: Any, arg: str) -> None:
    """,retry: evaluate the failed form again, in a new transaction."""
    failure = repl.failure
    if failure is None or failure.form is None:
        raise CommandError(",retry: no failed form to run again")
    repl.show(render.note("retrying " + (failure.typed or write(failure.form, limit=80))
                          .strip().splitlines()[0][:100]))
    repl.evaluate_form(failure.form, failure.typed, failure.source or "<repl>")
