"""Hostile frames: `Endpoint.answer` never raises, always answers with a signed reply,
and runs nothing it should not."""
from __future__ import annotations

import random

import pytest

from world.lisp.types import Char, Keyword, LispMap, Symbol
from world.peer import message

from endpoint_kit import BOB, EVE, frame, get, kind, raw_frame, reply, served

K = Keyword


@pytest.fixture(scope="module")
def peer(tmp_path_factory):
    yield from served(tmp_path_factory.mktemp("fuzz") / "w.fs")


@pytest.fixture(autouse=True)
def no_internal_errors(caplog):
    """No frame reaches the endpoint's last-resort handler: each is answered on purpose."""
    yield
    faults = [r for r in caplog.records if r.name == "world.peer" and r.levelname == "ERROR"]
    assert not faults, faults[0].getMessage()


def answered(ep, f) -> LispMap:
    """The reply body to `f`, which must be a signed reply."""
    text = ep.answer(f)
    assert type(text) is str
    body, _ = reply(text)
    return body


def refused(ep, f) -> str:
    body = answered(ep, f)
    assert get(body, "kind") == K("refused"), body
    return get(body, "error")


WEIRD = [1.5, -1, 1 << 64, 1 << 200, -(1 << 70), float("nan"), float("inf"), "12", "", K("x"),
         Symbol("s"), Char("a"), (), (K("core"),) * 40, (1, 2), True, False, None,
         LispMap([(K("a"), 1)]), "ab" * 32, "AB" * 32, 0.0]


@pytest.mark.parametrize("field", ["body", "key", "nonce", "sig", "caps", "steps", "re", "to"])
def test_wrong_types_in_every_header_field_are_refused(peer, field) -> None:
    _, ep = peer
    for v in WEIRD:
        fields = {"body": "(+ 1 2)", "nonce": message.new_nonce(), field: v}
        if field in ("key", "sig"):       # those are set by signing: write the map by hand
            fields.update(key="ab" * 32, sig="cd" * 64)
            fields[field] = v
            from world.lisp.printer import write
            text = write(LispMap((K(k), x) for k, x in fields.items()))
        else:
            text = raw_frame(fields)
        body = answered(ep, text)
        if get(body, "kind") is None:        # a value: only a harmless, valid variant ran
            assert (field in ("re", "to", "steps", "caps") and get(body, "value") == 3) \
                or (field == "body" and type(v) is str), (field, v)
        else:
            assert get(body, "kind") in (K("refused"), K("error")), (field, v, body)


def test_nonces_that_are_floats_bignums_or_negative_are_refused(peer) -> None:
    _, ep = peer
    for n in (1.0 * message.new_nonce(), 1 << 63, 1 << 100, -5, -message.new_nonce(), 0):
        refused(ep, raw_frame({"body": "1", "nonce": n}))


def test_frames_that_are_not_one_message_map_are_refused(peer) -> None:
    _, ep = peer
    good = frame("1")
    for f in ("", "   ", "()", "[1 2]", '"str"', "42", good + " " + good, "{:a 1 :a 2}",
              "{:body", "#<procedure>", "(" * 100_000, "{" * 5000 + "}" * 5000,
              "\x00\xff", b"\xff\xfe\x00", b"", "\ud800", good.replace("{", "{:extra 1 ", 1),
              '{:body "1" :key 1 :nonce 2 :sig 3}', "9" * 200_000):
        assert "(+" not in refused(ep, f)


def test_a_valid_signature_over_a_body_with_two_forms_or_a_deep_one_is_refused(peer) -> None:
    _, ep = peer
    for body in ("(+ 1 2) (+ 3 4)", "(" * 5000 + ")" * 5000, "(+ 1 2", ")", "#!eof", "'",
                 '"\\q"', "1 ; a comment\n2", "[" * 2000 + "]" * 2000):
        refused(ep, raw_frame({"body": body, "nonce": message.new_nonce()}))


def test_random_bytes_and_mutations_of_a_valid_frame_never_raise(peer) -> None:
    _, ep = peer
    rng = random.Random(15)
    for _ in range(150):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 300)))
        answered(ep, data if rng.random() < 0.5 else data.decode("latin-1"))
    base = frame("(list 1 2 3)")
    ran = 0
    for _ in range(300):
        chars = list(base)
        for _ in range(rng.randrange(1, 4)):
            i = rng.randrange(len(chars))
            op = rng.random()
            if op < 0.4:
                chars[i] = rng.choice('(){}[]":#\\ 0123456789abcdef-\n')
            elif op < 0.7:
                del chars[i]
            else:
                chars.insert(i, rng.choice('(){}"x1 '))
        body = answered(ep, "".join(chars))
        if get(body, "kind") is None:
            ran += 1
    assert ran <= 2         # the signature covers every field: at most a no-op edit survives


def test_huge_numbers_and_wrong_signers_in_a_signed_body_are_answered(peer) -> None:
    _, ep = peer
    assert kind(ep.answer(frame("(expt 2 100000000)"))) in ("budget", "error")
    assert kind(ep.answer(frame("(make-string 100000000 #\\a)"))) in ("budget", "error")
    assert kind(ep.answer(frame("(make-vector 100000 (make-string 100000 #\\a))"))) \
        in ("budget", "error")
    assert "unknown key" in refused(ep, frame("1", EVE))
    assert kind(ep.answer(frame("1", BOB))) == "ok"
