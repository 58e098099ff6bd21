"""The hotfix/ forms in a world with no hub yet: the token, empty lists, clear errors."""
from __future__ import annotations

import hashlib

import pytest

import world
from world.hotfix import store as hs
from world.lisp.errors import LispError


def test_the_token_is_kept_only_as_its_hash_and_compared_in_constant_time(tmp_path) -> None:
    with world.open(str(tmp_path / "dev.fs")) as w:
        token = w.eval("(hotfix/token!)")
        assert type(token) is str and len(token) >= 32
        assert w.eval("(hotfix/token!)") != token          # a new one each time
        token = w.eval("(hotfix/token!)")
    with world.open(str(tmp_path / "dev.fs")) as w:          # it survives a reopening
        st = hs.store_of(w.image.root)
        assert st.token == hashlib.sha256(token.encode()).hexdigest()
        assert st.token_ok(token) and st.token_ok(token + "\n")
        assert not st.token_ok(token[:-1]) and not st.token_ok(None)
    assert token.encode() not in (tmp_path / "dev.fs").read_bytes()


@pytest.mark.parametrize("src, message", [
    ('(hotfix/token! "typed")', "arity|argument"),
    ("(hotfix/show 1)", "no report has come from production yet"),
    ("(hotfix/accept 1)", "no report has come from production yet"),
    ("(hotfix/pending :some)", "the only option is :all"),
])
def test_mistakes_are_one_line(src: str, message: str) -> None:
    with world.open() as w:
        with pytest.raises(LispError, match=message):
            w.eval(src)


def test_no_reports_yet_is_an_empty_list_and_unknown_ids_are_named() -> None:
    with world.open() as w:
        assert w.eval("(hotfix/pending)") is None
        w.eval("(hotfix/token!)")
        with pytest.raises(LispError, match="no report 7"):
            w.eval("(hotfix/show 7)")


def test_a_sandbox_without_image_cannot_accept_or_set_the_token() -> None:
    with world.open(caps=("core", "reflect")) as w:
        assert w.eval("(hotfix/pending)") is None
        for src in ("(hotfix/token!)", "(hotfix/accept 1)",
                    "(hotfix/propose 1)"):
            with pytest.raises(LispError):
                w.eval(src)


def test_propose_needs_the_companion_capability_too() -> None:
    with world.open(caps=("core", "reflect", "image")) as w:
        with pytest.raises(LispError, match="only a session granted the companion capability"):
            w.eval("(hotfix/propose 1)")
