"""The reader rejects a map that names a key twice: one text, one meaning (issue 15)."""
from __future__ import annotations

import pytest

from world.lisp.errors import ReadError
from world.lisp.reader import read


@pytest.mark.parametrize("text, key, col", [
    ("{:a 1 :b 2 :a 3}", ":a", 12),
    ("{(1 2) 1 (1 2) 2}", "(1 2)", 10),
    ('{"k" 1\n "k" 2}', '"k"', 2),
    ("[{:x {:y 1 :y 2}}]", ":y", 12),
])
def test_a_duplicate_key_is_a_read_error_at_the_second_one(text: str, key: str, col: int) -> None:
    with pytest.raises(ReadError) as e:
        read(text)
    assert f"duplicate map key {key}" in e.value.message
    assert e.value.col == col


def test_keys_equal_only_by_spelling_are_distinct() -> None:
    # 1 and 1.0 are different keys (eqv?), as are a keyword and a symbol of one name.
    assert len(read("{1 :one 1.0 :float}")) == 2
    assert len(read("{:a 1 a 2}")) == 2
