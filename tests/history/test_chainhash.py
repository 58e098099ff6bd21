"""The quick hash check says what `compute_hash` says: the same JSON text for every field
a commit holds, and never "matches" for a commit whose contents changed."""
from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

import world
from world.history.chainhash import canonical, hash_matches
from world.history.record import history_of


def dumps(fields: dict) -> str:
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def test_every_commit_of_a_world_hashes_the_same_both_ways() -> None:
    w = world.open()
    w.eval('(define (f x) "Doc with \\"quotes\\", tab\\t, é and 😀." (* x 1234))')
    w.eval("(define g '(#\\a |odd name| \"s\\n\"))")
    w.eval("(undefine 'g)")
    hist = history_of(w)
    assert hist.count > 10
    for c in hist.atomic():
        assert canonical(c.fields()) == dumps(c.fields())
        assert hash_matches(c, c.hash)
        assert not hash_matches(c, "0" * 64)


field = st.one_of(st.text(), st.none(), st.integers(),
                  st.lists(st.lists(st.text(), max_size=4), max_size=3))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=8), field, max_size=10))
def test_generated_fields_give_json_text_or_nothing(fields: dict) -> None:
    text = canonical(fields)
    assert text is None or text == dumps(fields)


def test_unexpected_types_are_left_to_compute_hash() -> None:
    assert canonical({"time": 1.5}) is None
    assert canonical({"violations": [("a", "b")]}) is None
    assert canonical({"seq": True}) is None
    assert canonical({1: "x"}) is None
