"""A let binding needs its init (R7RS 4.2.2): `(let ((x)) x)` is a syntax error at the binding."""
from __future__ import annotations

import pytest

import world
from world.lisp.errors import LispSyntaxError


@pytest.mark.parametrize("source, col", [("(let ((x)) x)", 7), ("(let* ((x)) x)", 8),
                                         ("(letrec ((x)) x)", 10), ("(let loop ((x)) x)", 12)])
def test_a_binding_without_init_is_a_syntax_error_at_the_binding(source: str, col: int) -> None:
    with pytest.raises(LispSyntaxError) as info:
        world.open().eval(source)
    assert info.value.loc == (1, col)
    assert "each binding is (name expr)" in str(info.value)
