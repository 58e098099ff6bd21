"""document! and suggest: proposals shown as diffs, committed only when accepted; a
suggestion must pass the audit and the recorded checks in a sandboxed copy; hostile
candidates are refused with one line and the world is left as it was."""
from __future__ import annotations

import pytest

from messages_server import good
from world.companion import proposals
from world.companion.calls import CompanionError
from world.lisp.errors import LispError


def code(text: str, after: str = "It is shorter.") -> dict:
    return good(f"Here you go:\n```lisp\n{text}\n```\n{after}")


def versions(w, name: str) -> int:
    return len(w.image.root.history.versions(name))


def test_document_proposes_then_accept_commits_an_audited_recorded_definition(w, server):
    server.add(good('"The square of x."'))
    p = w.eval("(document! 'sq)")
    assert w.eval("(get (companion/pending) :kind)").name == "document"
    diff = w.eval("(get (companion/pending) :diff)")
    assert '+  "The square of x."' in diff and "-(define (sq x) (* x x))" in diff
    assert w.names.defs.get("sq").doc is None and versions(w, "sq") == 1     # nothing yet
    assert "sq" in server.requests[-1]["messages"][0]["content"]
    assert w.eval("(companion/accept)").name == "sq"
    d = w.names.defs.get("sq")
    assert d.doc == "The square of x." and w.eval("(sq 5)") == 25
    latest = w.image.root.history.latest("sq")
    assert versions(w, "sq") == 2 and latest.doc == "The square of x."
    assert latest.source == '(define (sq x) "The square of x." (* x x))'    # not (companion/accept)
    assert w.eval("(history/verify)") is True
    assert w.eval("(companion/pending)") is False
    assert p is not None


def test_reject_leaves_the_world_unchanged(w, server):
    server.add(good("Squares."))
    w.eval("(document! 'sq)")
    before = w.image.root.history.count
    assert w.eval("(companion/reject)") is True
    assert w.eval("(companion/reject)") is False
    with pytest.raises(CompanionError, match="no proposal is pending"):
        w.eval("(companion/accept)")
    assert w.image.root.history.count == before and w.names.defs.get("sq").doc is None


def test_accept_only_as_a_top_level_form_and_not_after_the_definition_changed(w, server):
    server.add(good("Squares."))
    w.eval("(document! 'sq)")
    with pytest.raises(CompanionError, match="only as a top-level form"):
        w.eval("(list (companion/accept))")
    w.eval("(define (sq x) (* x x 1))")
    with pytest.raises(CompanionError, match="sq changed since the proposal was made"):
        w.eval("(companion/accept)")
    assert w.names.defs.get("sq").source == "(define (sq x) (* x x 1))"


def test_document_keeps_comments_and_replaces_an_old_docstring(w, server):
    w.eval('(define (cube x)\n  ; the third power\n  "Old." (* x x x))')
    server.add(good("```\nThe third power of x.\n```"))
    w.eval("(document! 'cube)")
    new = proposals.pending(w).new
    assert new == '(define (cube x)\n  ; the third power\n  "The third power of x." (* x x x))\n'
    w.eval("(companion/accept)")
    assert w.image.root.history.latest("cube").typed.rstrip() == new.rstrip()


def test_document_refuses_code_and_non_procedures(w, server):
    server.add(good("(define (sq x) (launch-missiles))"))
    with pytest.raises(CompanionError, match="answered with code, not a docstring"):
        w.eval("(document! 'sq)")
    w.eval("(define limit 10)")
    with pytest.raises(CompanionError, match="no place for a docstring"):
        w.eval("(document! 'limit)")
    assert proposals.pending(w) is None and len(server.requests) == 1


def test_suggest_offers_a_candidate_that_passes_the_checks_and_audit(w, server):
    server.add(code("(define (quad x) \"The fourth power.\" (expt x 4))"))
    w.eval("(check 16 (quad 2))")
    m = w.eval("(suggest 'quad)")
    assert w.eval("(get (companion/pending) :offered)") is True
    p = proposals.pending(w)
    assert p.kind == "suggest" and "(expt x 4)" in p.diff and p.note == "It is shorter."
    assert w.names.defs.get("quad").source.endswith("(sq (sq x)))")        # not applied
    w.eval("(companion/accept)")
    assert w.eval("(quad 3)") == 81 and versions(w, "quad") == 2
    assert m is not None


def test_a_candidate_failing_the_checks_is_refused_after_two_attempts(w, server):
    before = w.image.root.history.count
    server.add(code("(define (sq x) (+ x x))"), code("(define (sq x) (* x 2))"))
    m = w.eval("(suggest 'sq)")
    assert len(server.requests) == 2
    assert "check 1 fails: (sq 3) should be 9, got 6" in server.requests[1]["messages"][0]["content"]
    from world.lisp.types import Keyword
    assert m.get(Keyword("offered")) is False
    assert m.get(Keyword("why")).startswith("check 1 fails: (sq 3) should be 9, got 6")
    assert proposals.pending(w) is None
    assert w.image.root.history.count == before and w.eval("(sq 3)") == 9


@pytest.mark.parametrize("reply, why", [
    ("(define (quad x) (* x x x x))\n(define (sq x) 0)", "held 2 forms"),
    ("(define (sq x) 0)", "defines sq, not (define quad ...)"),
    ("(define (quad x) (commit \"pwn\") (* x x x x))", "uses commit"),
    ("(define (quad x) (inspect 'sq) (* x x x x))", "uses inspect"),
    ("(define (quad x) (eval '(undefine 'sq)) (* x x x x))", "uses eval"),
    ("(define (quad x) (defrule r :when (lambda (m) #t)) 1)", "uses defrule"),
    ("Sure, quad is fine as it is.", "no readable Lisp form"),
])
def test_hostile_or_malformed_candidates_are_refused_with_one_line(w, server, reply, why):
    before = (w.image.root.history.count, w.names.defs.get("sq").source)
    server.add(code(reply) if reply.startswith("(") else good(reply), good("nothing"))
    m = w.eval("(suggest 'quad)")
    from world.lisp.types import Keyword
    assert m.get(Keyword("offered")) is False
    text = server.requests[1]["messages"][0]["content"]
    assert why in text.split("previous candidate was refused: ")[1]
    assert "\n" not in m.get(Keyword("why"))
    assert (w.image.root.history.count, w.names.defs.get("sq").source) == before
    assert proposals.pending(w) is None


def test_a_candidate_that_loops_or_touches_the_world_stays_in_the_sandbox(w, server):
    # a name the world does not define may be used only if pure: the check runs in a copy
    server.add(code("(define (sq x) (let loop ((n x)) (loop n)))"), code("(define (sq x) (car x))"))
    m = w.eval("(suggest 'sq)")
    from world.lisp.types import Keyword
    assert "budget" in server.requests[1]["messages"][0]["content"]
    assert "car" in m.get(Keyword("why"))
    assert w.eval("(sq 4)") == 16


def test_a_suggestion_with_more_audit_findings_is_refused(w, server):
    w.eval('(define (half x) "Half of x." (/ x 2))')
    server.add(code("(define (half x y) (/ x 2))"), code("(define (half unused x) (/ x 2))"))
    m = w.eval("(suggest 'half)")
    from world.lisp.types import Keyword
    assert m.get(Keyword("offered")) is False
    assert "the audit finds 1 violations (unused-parameter) where half now has 0" in \
        server.requests[1]["messages"][0]["content"]
    assert m.get(Keyword("why")).startswith("the audit finds 1 violations (unused-parameter)")


def test_a_suggestion_for_an_unknown_name_is_an_error(w, server):
    with pytest.raises(LispError, match="nope is not a definition"):
        w.eval("(suggest 'nope)")


def test_a_hostile_docstring_stays_a_string(w, server):
    evil = 'Square.") (undefine \'quad) (define (x) "'
    server.add(good(evil + "\n" + "\n".join(f"line {i}" for i in range(50))))
    w.eval("(document! 'sq)")
    new = proposals.pending(w).new
    w.eval("(companion/accept)")
    assert w.names.defs.get("sq").doc == evil + "\nline 0\nline 1"        # three lines at most
    assert "quad" in w.names.defs and "x" not in w.names.defs
    from world.lisp.reader import read_spans
    assert w.eval("(sq 3)") == 9 and len(read_spans(new)) == 1


def test_accept_evaluates_nothing_but_the_one_definition(w):
    old = w.names.defs.get("sq").source + "\n"
    proposals.offer(w, proposals.Proposal("suggest", "sq", old, "(define (sq x) 0)\n(undefine 'quad)\n"))
    with pytest.raises(CompanionError, match="not one form"):
        w.eval("(companion/accept)")
    assert "quad" in w.names.defs and w.eval("(sq 3)") == 9
