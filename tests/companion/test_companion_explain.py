"""(explain 'name) and (companion/ask ...) through the real SDK against the loopback
Messages-API server: the context sent, the answer returned, the cost recorded, no key,
and API errors."""
from __future__ import annotations

import json

import pytest

import world
from messages_server import good, overloaded, rate_limited
from world.companion import usage
from world.companion.calls import CompanionError
from world.lisp.errors import LispError


def sent(server) -> str:
    """The user prompt of the last request the server received."""
    return server.requests[-1]["messages"][0]["content"]


def test_explain_sends_source_doc_history_callers_and_checks(w, server):
    w.eval('(define (sq x) "The square." (* x x))')
    server.add(good("sq multiplies x by itself."))
    assert w.eval("(explain 'sq)") == "sq multiplies x by itself."
    prompt = sent(server)
    assert '(define (sq x) "The square." (* x x))' in prompt           # source
    assert "Docstring: 'The square.'" in prompt                          # docstring
    assert prompt.count("define at ") == 2 and 'in "squares"' in prompt  # both versions, the message
    assert "quad: (define (quad x)" in prompt                            # its caller
    assert "(check 9 (sq 3))" in prompt                                  # its checks
    req = server.requests[-1]
    assert "companion of World" in req["system"] and req["model"] == "claude-sonnet-4-6"
    assert not req.get("stream")                                         # no REPL: not streamed


def test_the_cost_of_each_call_is_recorded_and_totalled(w, server):
    server.add(good("one"), good("two"))
    w.eval("(explain 'sq)")
    w.eval("(explain 'quad)")
    u = w.eval("(companion/usage)")
    assert w.eval("(get (companion/usage) :calls)") == 2
    assert w.eval("(get (companion/usage) :tokens-in)") > 0
    assert w.eval("(get (companion/usage) :dollars)") > 0
    assert w.eval("(get (car (get (companion/usage) :recent)) :asked)") == "quad"
    assert u is not None


def test_the_cost_stays_recorded_when_the_form_fails_and_after_reopening(tmp_path, server):
    path = tmp_path / "w.fs"
    with world.open(path) as w:
        w.eval("(define (sq x) (* x x))")
        server.add(good("squares"))
        with pytest.raises(LispError):
            w.eval("(begin (explain 'sq) (car 5))")       # rolled back; the call was still made
    with world.open(path) as w:
        assert w.eval("(get (companion/usage) :calls)") == 1
        assert usage.find(w.image.root).recent(1)[0]["what"] == "explain"


def test_without_a_key_each_form_says_how_to_set_one(w, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    for form in ("(explain 'sq)", "(document! 'sq)", "(suggest 'sq)", '(companion/ask "why?")'):
        with pytest.raises(CompanionError) as e:
            w.eval(form)
        assert "ANTHROPIC_API_KEY is not set: export ANTHROPIC_API_KEY=" in str(e.value)
        assert "\n" not in str(e.value)


def test_rate_limits_are_retried_and_a_server_error_is_one_line(w, server):
    server.add(rate_limited(0), overloaded(), good("fine"))
    assert w.eval("(explain 'sq)") == "fine"
    assert len(server.requests) == 3
    # the script is exhausted: every retry gets a 500
    with pytest.raises(CompanionError) as e:
        w.eval("(explain 'sq)")
    msg = str(e.value)
    assert "companion: explain: the model API gave up after 4 attempts (last: server-error)" in msg
    assert "\n" not in msg
    assert w.eval("(get (companion/usage) :calls)") == 2           # the failed call is logged too
    assert usage.find(w.image.root).recent(1)[0]["status"] == "failed"


def test_a_refused_request_is_one_line_and_not_retried(w, server, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url + "/elsewhere")     # the server says 404
    with pytest.raises(CompanionError) as e:
        w.eval("(explain 'sq)")
    assert "explain: the model API refused the request (HTTP 404)" in str(e.value)
    assert "\n" not in str(e.value) and len(server.requests) == 0      # a 404 is not counted


def test_explain_refuses_what_is_not_a_definition(w, server):
    with pytest.raises(CompanionError, match="car is not a definition of this world"):
        w.eval("(explain 'car)")
    with pytest.raises(LispError, match="expected a quoted name"):
        w.eval('(explain "sq")')
    assert not server.requests                                      # nothing was asked


def test_ask_sends_the_named_definitions_and_the_nearest(w, server):
    server.add(good("quad calls sq twice."), good("no idea"))
    assert w.eval('(companion/ask "what does quad do?")') == "quad calls sq twice."
    assert "Definition quad" in sent(server) and "Question: what does quad do?" in sent(server)
    w.eval('(companion/ask "how is squad used?")')                 # a near miss: quad, the nearest
    assert "Definition quad" in sent(server)


def test_the_model_comes_from_the_setting_or_world_model(w, server, monkeypatch):
    server.add(good("a"), good("b"))
    w.eval('(companion/set-model! "claude-haiku-4-5")')
    w.eval("(explain 'sq)")
    assert server.requests[-1]["model"] == "claude-haiku-4-5"
    monkeypatch.setenv("WORLD_MODEL", "claude-opus-4-6")
    w.eval("(explain 'sq)")
    assert server.requests[-1]["model"] == "claude-opus-4-6"
    assert json.loads(json.dumps(server.requests[-1]["messages"]))


def test_companion_forms_are_the_owners_only(w, server):
    with pytest.raises(LispError, match="explain"):
        w.eval("(sandbox '(explain 'sq) :caps [:core :reflect])")
    assert not server.requests


def test_the_walk_for_callers_is_bounded(w, server, monkeypatch):
    from world.companion import context
    for i in range(12):
        w.eval(f"(define (user{i} x) (sq x))")
    monkeypatch.setattr(context, "CALLERS", 3)
    found, more = context.callers(w, "sq")
    assert len(found) == 3 and more
    monkeypatch.setattr(context, "SCAN", 2)
    found, more = context.callers(w, "sq")
    assert len(found) <= 2 and more
    server.add(good("ok"))
    w.eval("(explain 'sq)")
    assert "(more not shown)" in sent(server)


def test_a_long_question_is_answered_with_bounded_context(w, server):
    server.add(good("ok"))
    w.eval(f'(companion/ask "{" ".join(["what about squares"] * 400)} and sq?")')
    assert sent(server).count("Definition ") <= 8 and "Definition sq" in sent(server)


def test_explain_shows_the_newest_versions_only(w, server):
    for i in range(8):
        w.eval(f"(define (sq x) (* x x {i + 1}))")
    server.add(good("ok"))
    w.eval("(explain 'sq)")
    prompt = sent(server)
    assert prompt.count("define at ") == 5 and "(4 older versions not shown)" in prompt
    assert "(* x x 8)" in prompt and "(* x x 3)" not in prompt


def test_a_read_only_image_can_be_explained_without_a_log(tmp_path, server):
    path = tmp_path / "ro.fs"
    with world.open(path) as w:
        w.eval("(define (sq x) (* x x))")
    with world.open(path, read_only=True) as w:
        server.add(good("squares"))
        assert w.eval("(explain 'sq)") == "squares"
        assert usage.find(w.image.root) is None
