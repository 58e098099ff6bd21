"""The companion in the REPL: ,ask and (explain ...) stream their answer into the REPL's
output as it arrives; (document! ...) and (suggest ...) show a diff; ,yes commits and ,no
drops. The commands are run on a real Repl whose output is a recording sink."""
from __future__ import annotations

import io
import os
import sys
import threading

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from prompt_toolkit.output.plain_text import PlainTextOutput

from messages_server import good, streamed
from repl import commands
from repl.commands import CommandError
from repl.session import Repl

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "repl"))
from repl_driver import drive  # noqa: E402

ANSWER = "sq multiplies its argument by itself; quad calls it twice."


class Recording(io.StringIO):
    """An output file that remembers each write and calls `seen` with it."""

    def __init__(self, seen=None) -> None:
        super().__init__()
        self.writes: list[str] = []
        self.seen = seen

    def write(self, s: str) -> int:
        self.writes.append(s)
        if self.seen is not None:
            self.seen(s)
        return super().write(s)


@pytest.fixture
def session(w):
    """A Repl on `w` whose shown output goes to a Recording."""
    out = Recording()
    with create_pipe_input() as pipe:
        repl = Repl(w, input=pipe, output=DummyOutput(), show_output=PlainTextOutput(out))
        repl.out = out
        yield repl


def test_ask_streams_pieces_into_the_repl_before_the_answer_ends(session, server):
    hold = threading.Event()
    reply = streamed(ANSWER, pieces=4, hold=hold)
    server.add(reply)
    first = ANSWER[:len(ANSWER) // 4 + 1]
    session.out.seen = lambda s: hold.set() if first[:8] in s else None
    commands.run(session, ",ask what does sq do?")
    assert reply["held"] is True        # the first piece was shown while the server held the rest
    text = session.out.getvalue()
    assert text.count(ANSWER) == 1       # streamed, then not printed again as a value
    assert "tokens in" in text and "companion total ~$" in text and "over 1 calls" in text
    req = server.requests[-1]
    assert req["stream"] is True and "Definition sq" in req["messages"][0]["content"]


def test_explain_typed_in_the_repl_streams_and_is_the_value(session, server):
    server.add(streamed(ANSWER, pieces=3))
    session.evaluate("(explain 'sq)")
    text = session.out.getvalue()
    assert text.count(ANSWER) == 1 and sum(1 for s in session.out.writes if s and s in ANSWER) >= 3
    session.evaluate('(string-length *1)')
    assert str(len(ANSWER)) in session.out.getvalue()


def test_ask_without_a_question_or_a_key_is_one_line(session, server, monkeypatch):
    with pytest.raises(CommandError, match="expected a question"):
        commands.run(session, ",ask   ")
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    session.handle(",ask why?")
    lines = [ln for ln in session.out.getvalue().splitlines() if ln.strip()]
    assert "ANTHROPIC_API_KEY is not set: export ANTHROPIC_API_KEY=" in lines[0]
    assert lines[0].startswith("error: <ask>:1:1: companion: ask: ") and "Traceback" not in "".join(lines)


def test_document_shows_a_diff_and_yes_commits_it(session, server, w):
    server.add(good("The square of x."))
    session.evaluate("(document! 'sq)")
    text = session.out.getvalue()
    assert "; proposed a docstring for sq" in text and '+  "The square of x."' in text
    assert "; ,yes commits it, ,no drops it" in text and ":redefinition" not in text
    commands.run(session, ",yes")
    assert "sq committed as" in session.out.getvalue()
    assert w.names.defs.get("sq").doc == "The square of x."
    assert len(w.image.root.history.versions("sq")) == 2
    with pytest.raises(CommandError, match="no proposal is pending"):
        commands.run(session, ",yes")


def test_no_drops_the_proposal_and_the_world_is_unchanged(session, server, w):
    server.add(good("```lisp\n(define (quad x) \"The fourth power.\" (* x x x x))\n```\nflat"))
    before = w.image.root.history.count
    session.evaluate("(suggest 'quad)")
    assert "+(define (quad x) \"The fourth power.\" (* x x x x))" in session.out.getvalue()
    assert "no checks are recorded against quad: (check expected expr) adds one" in session.out.getvalue()
    commands.run(session, ",no")
    assert "dropped the proposal for quad; quad is unchanged" in session.out.getvalue()
    assert w.image.root.history.count == before
    assert w.names.defs.get("quad").source.endswith("(sq (sq x)))")


def test_a_refused_suggestion_is_one_line_in_the_repl(session, server):
    server.add(good("```lisp\n(define (sq x) (+ x x))\n```"), good("```lisp\n(define (fib n) 1)\n```"))
    session.evaluate("(suggest 'sq)")
    text = session.out.getvalue()
    assert "; suggest: no candidate offered for sq: the candidate defines fib, not (define sq ...)" in text
    assert ":offered" not in text


def test_a_whole_session_document_then_yes(w, server):
    server.add(good("The fourth power of x."))
    run = drive(w, "(document! 'quad)\r", ",yes\r")
    assert "quad committed as" in run.text
    assert '+(define (quad x) "The fourth power of x." (sq (sq x)))' in run.text
    assert w.names.defs.get("quad").doc == "The fourth power of x."


def test_yes_evaluates_nothing_but_the_one_definition(session, w):
    from world.companion import proposals
    old = w.names.defs.get("sq").source + "\n"
    proposals.offer(w, proposals.Proposal("suggest", "sq", old, "(define (sq x) 0)\n(undefine 'quad)\n"))
    with pytest.raises(CommandError, match="not one form"):
        commands.run(session, ",yes")
    assert "quad" in w.names.defs and w.eval("(sq 3)") == 9
