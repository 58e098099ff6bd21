"""Signed messages: canonical text, signatures over exact bytes, frames (world/peer/message.py)."""
from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from world.lisp.errors import MessageError
from world.lisp.printer import write
from world.lisp.reader import read
from world.lisp.types import Keyword, LispMap
from world.peer import message
from world.peer.message import _signed_bytes, canonical, decode, encode, new_nonce, sign, verify


def make_signer():
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(serialization.Encoding.Raw,
                                           serialization.PublicFormat.Raw).hex()
    return lambda data: (public, key.sign(bytes(data)).hex())


ALICE, MALLORY = make_signer(), make_signer()
K = Keyword


def resign(msg: LispMap, signer, **changes) -> LispMap:
    """`msg` with `changes`, signed again by `signer` over exactly those fields."""
    fields = {k.name: v for k, v in msg.items()}
    fields.update(changes)
    fields["key"] = signer(b"")[0]
    fields["sig"] = signer(_signed_bytes(fields))[1]
    return LispMap((K(k), v) for k, v in fields.items())


def test_a_signed_form_verifies_to_itself_with_its_header() -> None:
    form = read("(define (sq x) (* x x))")
    msg = sign(form, ALICE, steps=500, caps=[K("core")])
    got, header = verify(msg)
    assert write(got) == write(form)
    assert header.key == ALICE(b"")[0] and header.steps == 500 and header.caps == ("core",)
    assert msg.get(K("body")) == "(define (sq x) (* x x))"


@pytest.mark.parametrize("field, value", [
    ("body", "(+ 1 3)"), ("steps", 10 ** 9), ("nonce", 7), ("caps", (K("core"), K("output"))),
    ("to", "0" * 64)])
def test_changing_any_signed_field_breaks_the_signature(field: str, value: object) -> None:
    msg = sign(read("(+ 1 2)"), ALICE, steps=100)
    with pytest.raises(MessageError, match="bad signature"):
        verify(msg.assoc(K(field), value))


def test_another_key_cannot_claim_alices_message() -> None:
    msg = sign(read("1"), ALICE)
    forged = msg.assoc(K("key"), MALLORY(b"")[0])
    with pytest.raises(MessageError, match="bad signature"):
        verify(forged)


def test_the_signature_covers_the_exact_body_text_not_its_meaning() -> None:
    # A body with extra spaces is signed as written and reads to the same form.
    msg = resign(sign(read("1"), ALICE), ALICE, body="(+   1 2)")
    form, _ = verify(msg)
    assert write(form) == "(+ 1 2)"
    # ...but the same meaning respelled is not what was signed.
    with pytest.raises(MessageError, match="bad signature"):
        verify(msg.assoc(K("body"), "(+ 1 2)"))


@pytest.mark.parametrize("body, why", [
    ("(+ 1 2) (launch)", "holds 2 forms"), ("", "holds 0 forms"), ("(+ 1", "does not read"),
    ("{:a 1 :a 2}", "duplicate map key"), ("#0=(1 . #0#)", "does not read")])
def test_a_validly_signed_body_that_is_not_one_form_is_refused(body: str, why: str) -> None:
    with pytest.raises(MessageError, match=why):
        verify(resign(sign(read("1"), ALICE), ALICE, body=body))


@pytest.mark.parametrize("text", ["(lambda (x) x)"])
def test_only_data_is_canonical(text: str) -> None:
    from world.lisp.env import Environment
    from world.lisp.runtime import run
    value = run(Environment(["core"]), read(text)).value
    with pytest.raises(MessageError, match="only data"):
        canonical(value)


def test_canonical_text_sorts_keys_and_has_one_spelling() -> None:
    assert canonical(read("{:z 1 :a #(1 2) 'q 1.50}")) == canonical(read("{'q 1.5 :a [1 2] :z 1}"))
    assert canonical(read('"a\\x41;"')) == '"aA"'


@pytest.mark.parametrize("frame, why", [
    ("", "exactly one message map"), ("{:body 1} {:body 2}", "exactly one"),
    ("(1 2)", "exactly one message map"), ("{:body", "does not read"),
    ("{:a 1 :a 2}", "duplicate map key"), ("[" * 50, "does not read"),
    (b"\xff\xfe", "not UTF-8"), ("{:body \"" + "x" * (message.MAX_FRAME + 2000) + "\"}", "larger than"),
])
def test_bad_frames_are_one_line_errors(frame, why: str) -> None:
    with pytest.raises(MessageError, match=why) as e:
        decode(frame)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("field, value, why", [
    ("nonce", -1, ":nonce must be a count"), ("nonce", 1 << 70, ":nonce must be a count"),
    ("nonce", 1.5, ":nonce must be a count"), ("key", "ABC", ":key must be a public key"),
    ("sig", 12, ":sig must be a signature"), ("body", read("(1 2)"), ":body must be a string"),
    ("caps", read("(core)"), ":caps must be a vector"), ("steps", True, ":steps must be a count"),
    ("extra", 1, "unknown field :extra")])
def test_ill_typed_fields_are_refused_before_any_crypto(field: str, value: object, why: str) -> None:
    msg = sign(read("1"), ALICE).assoc(K(field), value)
    with pytest.raises(MessageError, match=why):
        verify(msg)


def test_frames_round_trip_through_text() -> None:
    msg = sign(read('{:a "é\\n" :b [1 2.5 #\\x]}'), ALICE, re=42, to=MALLORY(b"")[0])
    again = decode(encode(msg))
    assert encode(again) == encode(msg)
    form, header = verify(again)
    assert header.re == 42 and header.to == MALLORY(b"")[0]
    assert canonical(form) == msg.get(K("body"))


def test_nonces_strictly_increase() -> None:
    seen = [new_nonce() for _ in range(1000)]
    assert seen == sorted(set(seen))


def test_from_lisp_with_the_hosts_key(tmp_path, monkeypatch) -> None:
    import world
    from world import keys
    monkeypatch.setenv("WORLD_CONFIG_DIR", str(tmp_path / "cfg"))
    public = keys.init()
    w = world.open(str(tmp_path / "w.fs"))
    try:
        assert w.eval("(message/verify (message/sign '(a {:b 1})))") is not None
        assert write(w.eval("(message/verify (message/sign '(a {:b 1})))")) == "(a {:b 1})"
        assert w.eval("(get (message/sign 1) :key)") == public
        # a sandbox may verify but not sign: signing uses the host's key
        assert write(w.eval("(sandbox (list 'message/verify (list 'quote (message/sign 5))))")) == "5"
        with pytest.raises(Exception, match="unbound variable: message/sign"):
            w.eval("(sandbox '(message/sign 1))")
    finally:
        w.close()


def test_data_nested_past_the_readers_limit_says_so() -> None:
    deep = read("(" * 1500 + ")" * 1500, max_depth=2000)
    with pytest.raises(MessageError, match="nested deeper than 1000"):
        canonical(deep)
