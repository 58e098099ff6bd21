"""Model.stream through the real SDK against the loopback server's server-sent events:
pieces in order, usage and cost, retries only before any text, one-line failures."""
from __future__ import annotations

import pytest

from messages_server import good, overloaded, rate_limited, streamed
from world.evolve.agent_errors import ModelError
from world.evolve.model import Model, cost


def model() -> Model:
    waits: list[float] = []
    m = Model("claude-sonnet-4-6", backoff=0.01, sleep=waits.append, retries=3)
    m.waits = waits
    return m


def test_stream_delivers_pieces_in_order_with_usage_and_cost(server):
    server.add(streamed("one two three four", pieces=4))
    got: list[str] = []
    reply = model().stream("system", "prompt", got.append)
    assert len(got) == 4 and "".join(got) == reply.text == "one two three four"
    assert [a.status for a in reply.attempts] == ["ok"] and reply.stop_reason == "end_turn"
    assert reply.tokens_in > 0 and reply.tokens_out > 0
    assert reply.cost == pytest.approx(cost("claude-sonnet-4-6", reply.tokens_in, reply.tokens_out))
    req = server.requests[-1]
    assert req["stream"] is True and req["system"] == "system"


def test_rate_limits_and_overloads_before_any_text_are_retried(server):
    server.add(rate_limited(2), overloaded(), streamed("fine"))
    m = model()
    got: list[str] = []
    reply = m.stream("s", "p", got.append)
    assert "".join(got) == "fine"
    assert [a.status for a in reply.attempts] == ["rate-limited", "overloaded", "ok"]
    assert m.waits[0] == 2.0


def test_a_failure_after_text_arrived_is_not_retried(server):
    server.add(streamed("abcdefgh", pieces=4, fail_after=2), good("never asked"))
    got: list[str] = []
    with pytest.raises(ModelError) as e:
        model().stream("s", "p", got.append)
    assert "".join(got) == "abcd" and len(server.requests) == 1
    assert "the model's answer broke off" in e.value.message and "\n" not in e.value.message
    assert e.value.reply.text == "abcd"


def test_server_errors_give_up_in_one_line(server):
    got: list[str] = []
    with pytest.raises(ModelError) as e:       # the script is empty: 500 each time
        model().stream("s", "p", got.append)
    assert e.value.message == "the model API gave up after 4 attempts (last: server-error)"
    assert not got and len(server.requests) == 4


def test_ask_is_unchanged_by_streaming_support(server):
    server.add(good("plain"))
    assert model().ask("s", "p").text == "plain"
    assert "stream" not in server.requests[-1]
