"""The AI companion in the REPL: `,ask`, `,yes`, `,no`, and where its answers stream in.

The forms themselves (`explain`, `document!`, `suggest`, `companion/...`) are Lisp, in
world/companion; a REPL attaches a sink to its world, so that an answer is printed piece
by piece as the model writes it and a proposal is shown as a diff, and the value the form
returns is then not printed a second time.
"""
from __future__ import annotations

import weakref
from typing import Any

from prompt_toolkit.formatted_text import FormattedText

from world.companion import live, proposals
from world.companion.prims import _still_current
from world.lisp.printer import write_string

from . import render
from .commands import CommandError, command


class ReplSink:
    """The companion's output, printed in a REPL (held weakly: the world outlives it)."""

    def __init__(self, repl: Any) -> None:
        self._repl = weakref.ref(repl)

    @property
    def alive(self) -> bool:
        """Whether its REPL still exists."""
        return self._repl() is not None

    def text(self, piece: str) -> None:
        """Print a piece of a streamed answer as it arrives."""
        repl = self._repl()
        if repl is not None and piece:
            repl._program_output(piece)

    def end(self, note: str) -> None:
        """End the answer with a line on what it cost."""
        repl = self._repl()
        if repl is not None:
            repl.fresh_line()
            repl.show(render.note(f"; {note}"))

    def proposal(self, p: proposals.Proposal, note: str) -> None:
        """Show a proposal as a diff, and how to accept it."""
        repl = self._repl()
        if repl is None:
            return
        what = "a docstring" if p.kind == "document" else "a new version"
        said = f": {p.note}" if p.note and p.kind == "suggest" else ""
        repl.show(render.note(f"; proposed {what} for {p.name}{said}"))
        repl.show(diff_text(p.diff))
        repl.show(render.note(f"; {note}"))
        repl.show(render.note("; ,yes commits it, ,no drops it"))

    def refused(self, line: str) -> None:
        """Say why a suggestion was not offered."""
        repl = self._repl()
        if repl is not None:
            repl.show(render.note(f"; {line}"))


def diff_text(diff: str) -> FormattedText:
    """A unified diff, its added and removed lines coloured."""
    parts: list[tuple[str, str]] = []
    for line in diff.rstrip("\n").split("\n"):
        style = ("class:note" if line.startswith(("---", "+++", "@@")) else
                 "class:severity.info" if line.startswith("+") else
                 "class:severity.warning" if line.startswith("-") else "")
        parts += [(style, line), ("", "\n")]
    return FormattedText(parts[:-1])


def attach(repl: Any) -> None:
    """Send the companion's output in the REPL's world to the REPL."""
    live.attach(repl.world, ReplSink(repl))


def shown(world: Any, value: Any) -> bool:
    """Whether `value` was already shown by the companion as it came (so not printed again)."""
    return live.was_shown(world, value)


@command("ask", "QUESTION: ask the AI companion about this world (streams the answer)")
def cmd_ask(repl: Any, arg: str) -> None:
    """,ask QUESTION: the model answers with the definitions the question names as context."""
    if not arg.strip():
        raise CommandError(",ask: expected a question, as in ,ask what does fib do?")
    repl.evaluate(f"(companion/ask {write_string(arg.strip())})", source="<ask>")


@command("yes", "commit the companion's pending proposal (document!, suggest)")
def cmd_yes(repl: Any, arg: str) -> None:
    """,yes: evaluate the pending redefinition as an ordinary form."""
    p = proposals.pending(repl.world)
    if p is None:
        raise CommandError(",yes: no proposal is pending ((document! 'name) or (suggest 'name) makes one)")
    _still_current(repl.world, p)
    proposals.take(repl.world)
    if len(repl.world.forms(p.new, "<companion>")) != 1:      # never more than the one definition
        raise CommandError(",yes: the proposal is not one form; it was dropped")
    repl.evaluate(p.new, source="<companion>")


@command("no", "drop the companion's pending proposal")
def cmd_no(repl: Any, arg: str) -> None:
    """,no: forget the pending proposal; the world is unchanged."""
    p = proposals.take(repl.world)
    if p is None:
        raise CommandError(",no: no proposal is pending")
    repl.show(render.note(f"; dropped the proposal for {p.name}; {p.name} is unchanged"))
