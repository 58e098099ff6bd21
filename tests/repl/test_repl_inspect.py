"""(inspect x): names, topics and values described as data (world/inspect.py),
and the tree view of that data (repl/inspect_view.py)."""
from __future__ import annotations

import pytest

import world
from repl import inspect_view, render
from world.inspect import callers, describe, from_plain, inspect, symbols_in
from world.lisp.types import Keyword, LispMap

K = Keyword


def get(m: LispMap, *path: str):
    for k in path:
        m = m.get(K(k))
    return m


@pytest.fixture(name="lib")
def lib_fixture(w):
    w.eval('(define (sq x) "Square." (* x x))'
           "(define (sum-sq a b) (+ (sq a) (sq b)))"
           "(define (quad x) (sq (sq x)))"
           "(defmacro twice (e) `(begin ,e ,e))"
           "(define-record pt x y)"
           "(define origin (make-pt 0 0))"
           "(define quoted '(sq is mentioned))")
    return w


# ---------------------------------------------------------------- names

def test_a_definition(lib):
    m = lib.eval("(inspect 'sq)")
    assert get(m, "name") == "sq" and get(m, "kind") == "define"
    assert get(m, "type") == "procedure" and get(m, "doc") == "Square."
    assert get(m, "source") == '(define (sq x) "Square." (* x x))'
    assert get(m, "value") is lib.eval("sq")
    assert get(m, "version") == 1
    versions = world.write(get(m, "versions"))
    assert versions.startswith('({:commit "') and ':source "(define (sq x)' in versions


def test_who_calls_it_comes_from_the_sources(lib):
    m = lib.eval("(inspect 'sq)")
    assert world.write(get(m, "callers")) == "(quad quoted sum-sq)"
    assert callers(lib, "quad") == []


def test_versions_count_redefinitions(lib):
    lib.eval("(define (sq x) (* x x 1))")
    assert get(lib.eval("(inspect 'sq)"), "version") == 2


def test_macros_primitives_and_special_forms(lib):
    assert get(lib.eval("(inspect 'twice)"), "kind") == "defmacro"
    car = lib.eval("(inspect 'car)")
    assert get(car, "kind") == "primitive" and get(car, "doc").startswith("(car pair)")
    assert world.write(lib.eval("(inspect 'if)")) == \
        '{:callers () :checks () :doc "(if test then else?)" :kind "special form" :name "if"}'


def test_an_unknown_name_is_a_clear_error(lib):
    with pytest.raises(world.EvalError, match="inspect: nope is not defined"):
        lib.eval("(inspect 'nope)")


# ---------------------------------------------------------------- values

VALUES = [
    ("5", "{:type \"integer\" :value 5}"),
    ("\"hey\"", "{:length 3 :type \"string\" :value \"hey\"}"),
    ("'(1 2)", "{:items (1 2) :length 2 :type \"list\"}"),
    ("'(1 . 2)", "{:car 1 :cdr 2 :type \"pair\"}"),
    ("[1 2 3]", "{:items [1 2 3] :length 3 :type \"vector\"}"),
    ("{:a 1}", "{:entries {:a 1} :size 1 :type \"map\"}"),
    ("origin", "{:fields {:x 0 :y 0} :record-type \"pt\" :type \"record\"}"),
    ("(box 3)", "{:type \"box\" :value 3}"),
    ("'()", "{:type \"empty list\" :value ()}"),
    ("1/2", "{:type \"rational\" :value 1/2}"),
    ("(lambda (a b) \"Add.\" (+ a b))",
     "{:doc \"Add.\" :name \"lambda\" :parameters (a b) :source \"(lambda (a b) \\\"Add.\\\" (+ a b))\" "
     ":type \"procedure\"}"),
]


@pytest.mark.parametrize("expr,expected", VALUES)
def test_values(lib, expr, expected):
    assert world.write(lib.eval(f"(inspect {expr})")) == expected


def test_a_defined_procedure_links_to_its_definition(lib):
    m = lib.eval("(inspect sq)")
    assert get(m, "type") == "procedure"
    assert get(m, "defined-as", "kind") == "define"
    assert world.write(get(m, "defined-as", "callers")) == "(quad quoted sum-sq)"


def test_symbols_in_walks_any_depth():
    form = world.read("(a [b {:k (c)}] (d . e))")
    assert sorted(s.name for s in symbols_in(form)) == ["a", "b", "c", "d", "e"]


def test_describe_is_plain_python_api():
    assert world.write(describe(world.read("(x y)"))) == '{:items (x y) :length 2 :type "list"}'


# ---------------------------------------------------------------- topics

def test_world_topic(lib):
    lib.eval('(world/save "first")')
    m = inspect(lib, K("world"))
    assert get(m, "definitions") == 12 and get(m, "macros") == 1
    assert get(m, "where") == "<memory>" and get(m, "pending-commits") == 13
    assert world.write(get(m, "snapshot-names")) == '("first")'
    assert get(m, "names-bound") > 200


def test_snapshots_topic(lib):
    lib.eval('(world/save "a" "the note")')
    m = lib.eval("(inspect :snapshots)")
    assert get(m, "count") == 1
    snap = get(m, "snapshots").car
    assert get(snap, "name") == "a" and get(snap, "note") == "the note"
    assert get(snap, "definitions") == 12


def test_history_topic(lib):
    m = lib.eval("(inspect :history)")
    n = get(m, "atomic-commits")
    assert n >= 13 and get(m, "pending") == 13     # the definitions above (a record makes 7)
    recent = get(m, "recent")
    assert get(recent.car, "symbol") == "quoted" and get(recent.car, "pending") is True
    assert get(m, "last-commit") == get(recent.car, "commit")
    assert len(get(m, "head")) == 64
    lib.eval('(commit "the library")')
    m = lib.eval("(inspect :history)")
    assert get(m, "pending") == 0 and get(m, "pending-commits") is None
    assert get(get(m, "humans").car, "message") == "the library"


def test_rules_topic(lib):
    m = lib.eval("(inspect :rules)")
    names = [get(r, "name") for r in world.lisp.types.to_pylist(get(m, "rules"))]
    assert "missing-docstring" in names and get(m, "count") == len(names)
    assert get(get(m, "violations"), "violations") >= 1


def test_a_name_carries_its_versions_violations_and_checks(lib):
    lib.eval("(define (sq x) (* x x 1))")
    lib.eval("(check 9 (sq 3))")
    m = lib.eval("(inspect 'sq)")
    versions = world.lisp.types.to_pylist(get(m, "versions"))
    assert [get(v, "source") for v in versions] == ["(define (sq x) (* x x 1))",
                                                    '(define (sq x) "Square." (* x x))']
    newest = get(versions[0], "violations").car
    assert get(newest, "rule") == "missing-docstring" and get(newest, "severity") == "info"
    assert get(versions[1], "violations") is None
    assert len(get(versions[0], "commit")) == 12 and get(versions[0], "seq") > get(versions[1], "seq")
    check = get(m, "checks").car
    assert get(check, "expected") == "9" and get(check, "expr") == "(sq 3)"


def test_evaluator_topic_before_and_after_my_eval_is_installed(lib):
    m = lib.eval("(inspect :evaluator)")
    assert get(m, "installed") is False and "(set-eval-mode! 'my-eval)" in get(m, "message")
    assert lib.image.root.settings.get("evolve/evaluator") is None   # inspecting created nothing
    lib.eval("(set-eval-mode! 'my-eval)")
    m = lib.eval("(inspect :evaluator)")
    assert get(m, "installed") is True and get(m, "version") == 1
    assert get(m, "source").startswith("(define (my-eval expr env)")
    first = get(m, "history").car
    assert get(first, "kind") == "seed" and get(first, "current") is True
    assert get(first, "source") == get(m, "source")


def test_lineages_topic_shows_runs_lineages_and_fitness(lib):
    from world.evolve import run as R
    assert world.write(lib.eval("(inspect :lineages)")) == "{:count 0 :hall-of-fame () :runs ()}"
    R.start(lib, agent="reference", run_id="r1", lineages=1, rounds=1, generations=1,
            per_round=2, problems=(1, 2))
    m = lib.eval("(inspect :lineages)")
    assert get(m, "count") == 1
    run = get(m, "runs").car
    assert get(run, "run") == "r1"
    lineage = get(get(run, "generations").car, "lineages").car
    assert get(lineage, "name") == "g1-L0" and get(lineage, "solved") == 2
    assert set(k.name for k, _ in get(lineage, "components").items()) >= {"solve", "novelty"}
    assert type(get(lineage, "evaluator-diff")) is str
    assert get(get(m, "hall-of-fame").car, "lineage") == "g1-L0"


def test_from_plain():
    assert world.write(from_plain({"a_b": [1, None, {2: "x"}]})) == '{:a-b (1 #f {2 "x"})}'


def test_an_unknown_topic_lists_the_topics(lib):
    with pytest.raises(world.EvalError, match=r"unknown topic :bogus \(topics: :world, :history"):
        lib.eval("(inspect :bogus)")


def test_inspect_outside_a_world_is_refused():
    from world.lisp.env import Environment
    from world.lisp.primitives import OWNER
    from world.lisp.runtime import run
    with pytest.raises(world.SandboxError, match="not running in a world"):
        run(Environment(OWNER), world.read("(inspect 'car)"))


# ---------------------------------------------------------------- the tree view

def test_tree_view(lib):
    text = render.plain(inspect_view.tree(lib.eval("(inspect 'sum-sq)")))
    lines = text.splitlines()
    assert lines[0] == "{sum-sq define 11 entries}"
    assert '├─ :source (define (sum-sq a b) (+ (sq a) (sq b)))' in lines
    assert "├─ :versions (1 item)" in lines
    assert any(line.startswith("│  └─ [0] {") for line in lines)
    assert lines[-1] == "└─ :callers ()"


def test_tree_view_cuts_long_lists_and_deep_trees(lib):
    text = render.plain(inspect_view.tree(lib.eval("(inspect (iota 100))")))
    assert text.splitlines()[-1] == "   └─ … 60 more"
    deep = render.plain(inspect_view.tree(lib.eval("'(((((1)))))"), max_depth=2))
    assert deep.splitlines()[-1].endswith("└─ …")


def test_procedures_and_records_open_into_their_description(lib):
    kids = dict(inspect_view.opened(lib.eval("origin")))
    assert kids[":record-type"] == "pt"
    assert inspect_view.opened(5) is None
