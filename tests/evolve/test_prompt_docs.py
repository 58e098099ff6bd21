"""The prompt's documentation of the handler API cannot drift from the code: every
documented procedure is bound in a fresh lineage world with the documented arity, every
environment primitive is documented, and the forms the seed lacks are what the seed
my-eval really fails on."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

import pytest

import world
from world.evolve import handler_api
from world.evolve.evaluator import MY_EVAL, defined_name, handled_forms, seed_forms
from world.evolve.lineage import Lineage, evolve_root, lineage_world
from world.evolve.prompt import evaluator_text, helpers_text, system_prompt
from world.evolve.rounds import DEFAULTS
from world.evolve.seeding import evaluator_of, install, seed_source
from world.lisp.analyze import SPECIAL
from world.lisp.errors import ArityError, LispError
from world.lisp.primitives import GROUPS
from world.lisp.types import Symbol

ENTRY = re.compile(r"^  \(([^\s()]+)((?: [^\s()]+)*)\)  ")


def documented(text: str) -> list[tuple[str, list[str]]]:
    """(name, params) of each `(name params...)` entry of the handler API section."""
    section = text.split("Writing a handler for extend-eval!", 1)[1].split("Example:", 1)[0]
    return [(m.group(1), m.group(2).split()) for m in map(ENTRY.match, section.splitlines()) if m]


@pytest.fixture
def lineage(tmp_path: Path) -> Iterator[Any]:
    """A fresh lineage world with the seed installed."""
    path = tmp_path / "w.fs"
    with world.open(path) as w:
        lin = Lineage("t", 1, 0, seed_source())
        evolve_root(w.image).hall["t/1"] = lin      # anywhere committed will do
        w.image.tm.commit()
        lw = lineage_world(w.image, lin)
        install(lw, lin.seed)
        try:
            yield lw
        finally:
            lw.close()


def test_every_documented_procedure_is_bound_with_its_documented_arity(lineage) -> None:
    entries = documented(system_prompt(DEFAULTS))
    names = [n for n, _ in entries]
    assert {"env-bind", "env-extend", "env-lookup", "env-define!", "env-set!", "form?", "eval",
            "my-eval", "my-eval/body", "my-apply"} <= set(names)
    for name in ("extend-eval!", "edit-eval!", "show-eval", "eval-history", "eval-rollback!"):
        assert f"({name}" in system_prompt(DEFAULTS) and lineage.env.is_bound(Symbol(name)), name
    for name, params in entries:
        assert lineage.env.is_bound(Symbol(name)), name
        required = [p for p in params if not p.startswith("[") and not p.endswith("...")]
        rest = any(p.endswith("...") for p in params)
        too_few = " ".join(["1"] * (len(required) - 1))
        if required:
            with pytest.raises(ArityError):
                lineage.eval(f"({name} {too_few})")
        if not rest:
            too_many = " ".join(["1"] * (len(params) + 1))
            with pytest.raises(ArityError):
                lineage.eval(f"({name} {too_many})")


def test_every_environment_primitive_and_every_seed_procedure_is_documented() -> None:
    names = {n for n, _ in documented(system_prompt(DEFAULTS))}
    env_prims = {n for n in GROUPS["evaluator"] if n.startswith("env-") or n == "form?"}
    assert env_prims <= names | set(handler_api.SHOWN_AS)
    seed = {defined_name(f).name for f in seed_forms()}
    assert seed <= names


def test_the_forms_the_seed_lacks_fail_through_it_and_the_ones_it_has_do_not(lineage) -> None:
    lacks = handler_api.seed_lacks()
    seed = next(f for f in seed_forms() if defined_name(f) is MY_EVAL)
    assert set(lacks) == {s.name for s in SPECIAL} - set(handled_forms(seed)) - \
        set(handler_api.INSIDE_QUASIQUOTE)
    assert {"when", "unless", "and", "or", "set!", "let*", "letrec", "do", "case"} <= set(lacks)
    for name in lacks:                  # my-eval takes the form for a call of an unbound name
        with pytest.raises(LispError, match="unbound variable"):
            lineage.eval(f"(my-eval '({name} 1 2) '())")
    assert lineage.eval("(my-eval '(if #f 1 2) '())") == 2
    text = system_prompt(DEFAULTS)
    assert "  " + " ".join(lacks) in text and "seed my-eval lacks" in text


def test_sub_natives_and_the_evaluator_are_shown(lineage) -> None:
    text = system_prompt(DEFAULTS)
    assert '(sub "label" form...)' in text and "[native]" in text
    assert helpers_text([("sq", "(define (sq x) (* x x))"), ("f", "(define (f) 1)")], {"sq"}) == \
        "sq [native]: (define (sq x) (* x x))\nf: (define (f) 1)"
    shown = evaluator_text(evaluator_of(lineage))
    assert shown.startswith("(define\n  (my-eval expr env)") and len(shown.splitlines()) > 20
    assert "now handles" not in shown
    lineage.eval("(extend-eval! 'when '(lambda (expr env) (if (my-eval (cadr expr) env) "
                 "(my-eval/body (cddr expr) env) (void))))")
    shown = evaluator_text(evaluator_of(lineage))
    assert "(of the forms the seed lacks, it now handles: when)" in shown
    assert lineage.eval("(my-eval '(when #t 1 2) '())") == 2


def test_the_system_prompt_is_the_same_in_every_process() -> None:
    """Replay is keyed by the prompt: no clock, no hash order, nothing of the process."""
    import os
    import subprocess
    import sys
    code = ("from world.evolve.prompt import system_prompt; from world.evolve.rounds import DEFAULTS;"
            "import sys; sys.stdout.write(system_prompt(DEFAULTS))")
    root = str(Path(__file__).resolve().parents[2])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root,
                         env=dict(os.environ, PYTHONHASHSEED="12345", PYTHONPATH=root),
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == system_prompt(DEFAULTS)
    assert not re.search(r"\d{4}-\d\d-\d\d|\d\d:\d\d:\d\d", out.stdout)


def test_a_deeply_nested_evaluator_is_shown_on_one_line_not_blown_up() -> None:
    inner = "x"
    for _ in range(400):
        inner = f"({'a' * 70} {inner})"
    source = f"(define (my-eval expr env) (cond ((form? expr 'zz) '{inner}) (else 1)))"
    shown = evaluator_text(source)
    assert shown == source                  # pretty-printed it would be ~40 times longer
    assert evaluator_text("(define (my-eval expr env) (cond (else 1) ").startswith("(define")
