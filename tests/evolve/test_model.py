"""The real `anthropic` SDK against a Messages API server on loopback."""
from __future__ import annotations

import pytest

from messages_server import MessagesServer, good, malformed, overloaded, rate_limited, slow
from world.evolve.agent_errors import EvolveError, ModelError
from world.evolve.model import NO_KEY, Model, cost


@pytest.fixture
def server(monkeypatch):
    with MessagesServer() as s:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", s.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
        yield s


def model(**kw) -> Model:
    waits: list[float] = []
    m = Model("claude-sonnet-4-6", backoff=0.01, sleep=waits.append, **kw)
    m.waits = waits
    return m


def test_good_reply_has_text_tokens_and_cost(server):
    server.add(good("(define (sq x) (* x x))"))
    reply = model().ask("system text", "prompt text")
    assert reply.text == "(define (sq x) (* x x))"
    assert [a.status for a in reply.attempts] == ["ok"]
    assert reply.tokens_in > 0 and reply.tokens_out > 0
    assert reply.cost == pytest.approx(cost("claude-sonnet-4-6", reply.tokens_in, reply.tokens_out))
    req = server.requests[0]
    headers = req["_headers"]
    assert "sk-ant-test-key" in (headers.get("x-api-key", "") + headers.get("authorization", ""))
    assert req["model"] == "claude-sonnet-4-6" and req["system"] == "system text"
    assert req["messages"] == [{"role": "user", "content": "prompt text"}]


def test_malformed_reply_is_returned_as_text(server):
    server.add(malformed("Sure! (define (f x) (+ x 1)"))
    assert model().ask("s", "p").text == "Sure! (define (f x) (+ x 1)"


def test_rate_limit_is_retried_after_the_servers_wait(server):
    server.add(rate_limited(after=2), rate_limited(after=3), good("(done 1)"))
    m = model()
    reply = m.ask("s", "p")
    assert reply.text == "(done 1)"
    assert [a.status for a in reply.attempts] == ["rate-limited", "rate-limited", "ok"]
    assert m.waits == [2.0, 3.0]
    assert len(server.requests) == 3


def test_overload_is_retried_with_backoff(server):
    server.add(overloaded(), overloaded(), good("42"))
    m = model()
    reply = m.ask("s", "p")
    assert [a.status for a in reply.attempts] == ["overloaded", "overloaded", "ok"]
    assert len(m.waits) == 2 and 0 < m.waits[0] <= m.waits[1] * 2
    assert reply.tokens_out > 0 and reply.attempts[0].tokens_out == 0


def test_gives_up_after_the_retries_with_every_attempt_recorded(server):
    server.add(*[overloaded()] * 3)
    with pytest.raises(ModelError, match="gave up after 3 attempts .last: overloaded"):
        model(retries=2).ask("s", "p")


def test_timeout_is_an_attempt_and_is_retried(server):
    server.add(slow(1.5), good("(done 2)"))
    reply = model(timeout=0.3).ask("s", "p")
    assert [a.status for a in reply.attempts] == ["timeout", "ok"]


def test_refused_request_is_one_clear_error(server, monkeypatch):
    server.default = None
    server.httpd.RequestHandlerClass.do_POST = lambda h: server._send(
        h, 401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}})
    with pytest.raises(ModelError, match=r"refused the request \(HTTP 401\): invalid x-api-key"):
        model().ask("s", "p")


def test_missing_key_says_how_to_set_it_or_run_offline(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(EvolveError) as e:
        Model("claude-sonnet-4-6")
    assert str(e.value) == f"evolve: {NO_KEY}"
    assert "--agent reference" in str(e.value) and "\n" not in str(e.value)
