"""Lazy binding: opening a world binds no stored definition; each binds when
something needs it, and the world behaves exactly as if all were bound."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import world
from world.lisp.types import Symbol
from world.objects.lazy import WorldEnvironment

LIBRARY = """
(define (sq x) "Square." (* x x))
(define (a) (b))
(define (b) (+ 1 (c)))
(define (c) 41)
(define (use) (map sq '(1 2 3)))
(define table (vector sq c))
(define (dyn name) (eval (list (string->symbol name) 3)))
(define (dyn-ref name) (eval (string->symbol name)))
(define (car x) 'mine)
(defmacro twice (e) `(begin ,e ,e))
(define unused-1 1)
(define unused-2 (lambda () 2))
"""


@pytest.fixture
def stored(image: str) -> str:
    with world.open(image) as w:
        w.eval(LIBRARY)
    return image


def _loaded(w: world.World) -> set[str]:
    return set(w.names.loaded)


def test_opening_binds_only_macros_and_shadowed_primitives(stored: str) -> None:
    with world.open(stored) as w:
        assert type(w.env) is WorldEnvironment
        assert _loaded(w) == {"car"}                 # it hides a primitive: bound at once
        assert Symbol("twice") in w.env.macros
        assert w.eval("(car '(1 2))") == Symbol("mine")


def test_a_call_binds_what_it_reaches_transitively(stored: str) -> None:
    with world.open(stored) as w:
        assert w.eval("(a)") == 42
        assert {"a", "b", "c"} <= _loaded(w)
        assert not {"sq", "use", "unused-1", "unused-2"} & _loaded(w)


def test_values_named_but_not_called_are_bound(stored: str) -> None:
    with world.open(stored) as w:
        assert world.write(w.eval("(use)")) == "(1 4 9)"
        assert world.write(w.eval("(list ((vector-ref table 1)) ((vector-ref table 0) 5))")) == "(41 25)"
        assert w.eval("((vector-ref (vector sq) 0) 4)") == 16


def test_names_built_at_run_time_are_bound_by_running_the_form_again(stored: str) -> None:
    shown: list[str] = []
    with world.open(stored, out=shown.append) as w:
        w.eval("(define log (box 0))")
        # The form bumps the box before it meets the unbound name: it must run once, in effect.
        assert w.eval('(let () (set-box! log (+ (unbox log) 1)) (dyn "sq"))') == 9
        assert w.eval("(unbox log)") == 1
        assert "unused-1" not in w.names.loaded
        # A bare name built at run time is only found when it fails: the form runs again.
        value = w.eval('(let () (display "once") (set-box! log (+ (unbox log) 1)) '
                       '(dyn-ref "unused-1"))')
        assert value == 1 and w.eval("(unbox log)") == 2 and "unused-1" in w.names.loaded
        assert shown == ["once"]                                 # output of the first run dropped
        with pytest.raises(world.LispError, match="unbound variable: nothing-here"):
            w.eval('(dyn "nothing-here")')
        with pytest.raises(world.LispError, match="unbound variable: nothing-here"):
            w.eval('(dyn-ref "nothing-here")')


def test_a_guard_around_a_name_built_at_run_time_sees_its_value(stored: str) -> None:
    # `eval` compiles what it is given, and compiling binds the stored names it meets,
    # so no unbound-variable error is raised for `guard` to catch.
    with world.open(stored) as w:
        assert w.eval('(guard (e (#t (quote none))) (eval (string->symbol "unused-1")))') == 1
        assert w.eval('(guard (e (#t (quote none))) ((eval (string->symbol "unused-2"))))') == 2
        assert w.eval('(guard (e (#t (quote none))) (eval (string->symbol "nothing-here")))') \
            == Symbol("none")


def test_environment_queries_see_every_stored_name(stored: str) -> None:
    with world.open(stored) as w:
        assert w.env.docs.get(Symbol("sq")) == "Square."
        assert w.env.is_bound(Symbol("unused-1")) and w.env.lookup(Symbol("unused-1")) == 1
        w.eval("(set! unused-2 5)")
        assert w.eval("unused-2") == 5
    with world.open(stored) as w:
        names = {s.name for s in w.env.names()}
        assert {"sq", "a", "use", "unused-1", "unused-2", "car"} <= names
        assert {s.name for s in w.env.globals()} >= {"sq", "table", "unused-2"}
        assert Symbol("sq") in w.env.docs and len(w.env.docs) >= 1
        kid = w.env.child()
        assert kid.lookup(Symbol("unused-2")) == 5


def test_a_sandbox_child_sees_stored_definitions(stored: str) -> None:
    with world.open(stored) as w:
        kid = w.env.child(["core"])
        from world.lisp.reader import read
        from world.lisp.runtime import run
        assert run(kid, read("(sq 7)")).value == 49


def test_snapshots_of_a_lazily_bound_world_are_complete(stored: str) -> None:
    with world.open(stored) as w:
        w.eval('(world/save "all")')
        w.eval("(define (sq x) 0)")
        w.eval('(world/restore "all")')
        assert w.eval("(sq 3)") == 9 and w.eval("unused-1") == 1


def test_a_name_another_session_defines_later_reaches_compiled_code(zeo: str) -> None:
    a, b = world.open(zeo=zeo), world.open(zeo=zeo)
    try:
        a.eval("(define (f) (g 1))")
        with pytest.raises(world.LispError, match="unbound variable: g"):
            a.eval("(f)")
        b.eval("(define (g x) (+ x 100))")
        assert a.eval("(f)") == 101
        b.eval("(define (g x) (+ x 200))")
        assert a.eval("(f)") == 201
    finally:
        a.close()
        b.close()


def test_a_name_removed_and_defined_again_elsewhere_is_rebound(zeo: str) -> None:
    a, b = world.open(zeo=zeo), world.open(zeo=zeo)
    try:
        a.eval("(define v 1)")
        assert b.eval("v") == 1
        a._change(lambda: a.names.remove("v"), "remove v")
        a._change(lambda: a.names.put("v", "define", 2, None, None), "define v")
        assert b.eval("v") == 2
    finally:
        a.close()
        b.close()


def test_one_call_in_a_large_world_loads_little(tmp_path: Path, run_py: Any) -> None:
    image = str(tmp_path / "big.fs")
    with world.open(image) as w:
        w.eval('(define (mk i) (eval (list (quote define) (string->symbol '
               '(string-append "f" (number->string i))) i)))')
        w.eval("(for-each mk (iota 2000))")
    out = run_py("""
        import sys, world
        w = world.open(sys.argv[1])
        print(w.eval("(+ f7 f1999)"), len(w.names.loaded), len(w.image.conn._cache))
        """, image)
    value, loaded, cached = map(int, out.split())
    assert value == 2006 and loaded <= 3
    assert cached < 400          # the root, BTree nodes on two paths, two definitions: not 2000
