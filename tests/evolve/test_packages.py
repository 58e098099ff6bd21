"""Evaluator packages: a winner's my-eval travels with the helpers and natives it uses,
the next generation installs it whole, a tampered package fails its lineage in one
line, and records made before packages still work (evaluator-only)."""
from __future__ import annotations

import pickle
import re

import pytest

import world
from messages_server import good
from world.evolve import run as R
from world.evolve.agent_errors import EvolveError
from world.evolve.lineage import Generation, HallEntry, Lineage, Run, evolve_root, lineage_world
from world.evolve.package import (check, evaluator_only, install_package, package_of, seed_of,
                                  stored)
from world.evolve.seeding import install, seed_source
from world.lisp.errors import LispError

HELPERS = ["(define (twice x) (* 2 x))", "(define (quad x) (twice (twice x)))",
           "(define (unused x) x)", "(defnative! bump (x) (+ x 100))"]
DBL = "(extend-eval! 'dbl '(lambda (expr env) (bump (quad (my-eval (cadr expr) env)))))"


def _lineages(w, n=2):
    """A run with one generation of `n` committed, empty lineages (real records)."""
    image = w.image
    image.begin()
    run = Run("p", {}, "test")
    evolve_root(image).runs["p"] = run
    gen = run.generations[1] = Generation(1, "", "seed")
    for i in range(n):
        gen.lineages[i] = Lineage("p", 1, i, "")
    image.tm.commit()
    return list(gen.lineages.values())


@pytest.fixture
def made(tmp_path):
    """A lineage world whose my-eval handles dbl through two helpers and a native."""
    w = world.open(tmp_path / "w.fs")
    lineages = _lineages(w)
    lw = lineage_world(w.image, lineages[0])
    install(lw, "")
    for form in HELPERS + [DBL]:
        lw.eval(form)
    try:
        yield w, lw, lineages
    finally:
        lw.close()
        w.close()


def test_a_package_holds_what_my_eval_uses_transitively_as_plain_data(made):
    w, lw, _ = made
    pkg = package_of(lw)
    assert pkg["evaluator"] == world.write(lw.eval("(show-eval)"))
    assert pkg["helpers"] == (("twice", "(define (twice x) (* 2 x))"),
                              ("quad", "(define (quad x) (twice (twice x)))"))   # dependencies first
    assert pkg["natives"] == (("bump", "(define (bump x) (+ x 100))"),)
    assert pickle.loads(pickle.dumps(pkg)) == pkg and check(pkg) == pkg
    assert not any(n.startswith("my-eval") for n, _ in pkg["helpers"])     # the seed's own stay out


def test_an_installed_package_works_in_a_fresh_lineage(made):
    w, lw, lineages = made
    pkg = package_of(lw)
    other = lineage_world(w.image, lineages[1])
    try:
        install_package(other, pkg)
        assert other.eval("(eval '(dbl 3))") == 112
        assert world.write(other.eval("(eval-natives)")) == "(bump)"
        assert "unused" not in other.image.root.definitions
        assert package_of(other) == pkg
    finally:
        other.close()


def _tampered(pkg):
    helper = pkg["helpers"][0]
    return [
        ([1, 2], "is not a package"),
        (dict(pkg, format=9), "format 9"),
        (dict(pkg, evaluator="(define (my-eval expr env) #<procedure twice>)"), "cannot be read"),
        (dict(pkg, evaluator="(define (not-my-eval x) x)"), "not a definition of my-eval"),
        (dict(pkg, helpers=((helper[0], helper[1] + " (world/save \"x\")"),)), "not canonical"),
        (dict(pkg, helpers=((helper[0], "(define  (twice x) x)"),)), "not canonical"),
        (dict(pkg, helpers=(("twice", "(define (other x) x)"),)), "not a definition of twice"),
        (dict(pkg, helpers=(helper, helper)), "defined twice"),
        (dict(pkg, helpers=(("my-eval", "(define (my-eval e v) 1)"),)), "is the package's evaluator"),
        (dict(pkg, helpers=("twice",)), "not a (name, source) pair"),
        (dict(pkg, helpers=((3, "(define x 1)"),)), "not a (name, source) pair"),
        (dict(pkg, natives=(("bump", "(define bump 3)"),)), "a native is (define (name"),
        (dict(pkg, natives="bump"), "not a list of (name, source) pairs"),
        (dict(pkg, helpers=tuple((f"h{i}", f"(define h{i} {i})") for i in range(300))), "more than"),
        (dict(pkg, helpers=(("big", "(define big \"" + "x" * 300_000 + "\")"),)), "longer than"),
    ]


def test_a_tampered_package_is_one_clear_line(made):
    _, lw, _ = made
    for bad, words in _tampered(package_of(lw)):
        with pytest.raises(EvolveError) as info:
            check(bad)
        message = str(info.value)
        assert words in message and "\n" not in message and len(message) < 300, message


def test_a_package_part_that_fails_to_install_names_itself(made):
    w, lw, lineages = made
    pkg = dict(package_of(lw), helpers=(("twice", "(define (twice x) (car))"),
                                        ("boom", "(define boom (car '()))")))
    other = lineage_world(w.image, lineages[1])
    try:
        with pytest.raises(LispError) as info:
            install_package(other, pkg)
        assert "the helper boom fails" in str(info.value) and "\n" not in str(info.value)
    finally:
        other.close()


def test_records_made_before_packages_are_evaluator_only():
    entry = HallEntry("old", 1, "g1-L0", seed_source(), {"total": 0.5})
    del entry.package           # as an entry pickled before packages has no such attribute
    assert stored(entry) == evaluator_only(seed_source()) == check(seed_source())
    old = Generation(2, seed_source(), "g1-L0")
    assert seed_of(old)["evaluator"] == seed_source() and seed_of(old)["helpers"] == ()


# ---------------------------------------------------------------- through two generations

def builder(body):
    """A model that, in generation 1, makes a helper chain and a native and a special form
    calling them; when my-eval (shown in the prompt) already has the form, it uses it."""
    from world.evolve.pool import load_pool
    text = body["messages"][-1]["content"]
    m = re.search(r"Problem (\d+) \(", text)
    if m is None:
        return good('(note "no change")')
    p = load_pool().get(int(m.group(1)))
    solution = f"{p.solution_text()}\n(done {p.call_text})"
    if "## Scratchpad so far\n(empty)" not in text:
        return good(f"```lisp\n{solution}\n```")
    if "'dbl" not in text:
        return good("```lisp\n" + "\n".join(HELPERS[:2] + HELPERS[3:] + [DBL]) + "\n```")
    return good(f"```lisp\n(eval '(dbl 3))\n{solution}\n```")


def test_a_winner_whose_handler_calls_a_helper_and_a_native_works_in_generation_2(tmp_path,
                                                                                   server):
    server.default = builder
    with world.open(tmp_path / "w.fs") as w:
        run = R.start(w, agent="model", run_id="pk", lineages=2, rounds=1, generations=2,
                      per_round=2, problems=(1, 2, 3, 4))
        g1, g2 = run.generations[1], run.generations[2]
        winner = g1.lineages[g1.winner]
        pkg = winner.package
        assert [n for n, _ in pkg["helpers"]] == ["twice", "quad"]
        assert [n for n, _ in pkg["natives"]] == ["bump"]
        hall = evolve_root(w.image).hall
        assert hall["pk/0001"].package == pkg and hall["pk/0001"].evaluator == pkg["evaluator"]
        assert g2.seed_package == pkg and g2.seed == pkg["evaluator"]
        for lineage in g2.lineages.values():
            assert lineage.seed_package == pkg and not lineage.failure
            first = lineage.rounds[1].attempts[0]
            used = [c for c in first.cells.values() if c.expr == "(eval '(dbl 3))"]
            assert [(c.kind, c.result) for c in used] == [("CODE", "112")]
            assert lineage.fitness["solved"] == 2
            assert "dbl" in lineage.novel               # inherited, still new against the seed
            assert lineage.fitness["new_constructs"] >= 1 and lineage.fitness["novelty"] > 0
        assert all(lineage.package["helpers"] == pkg["helpers"] for lineage in g2.lineages.values())


def test_a_tampered_generation_seed_fails_its_lineage_and_the_run_goes_on(tmp_path, server):
    server.default = builder

    class Stop(BaseException):
        pass

    def stop_at_generation_2(event):
        if event.get("phase") == "generation" and event.get("generation") == 2:
            raise Stop()
    path = tmp_path / "w.fs"
    with world.open(path) as w:
        with pytest.raises(Stop):
            R.start(w, stop_at_generation_2, run_id="t", agent="model", lineages=2, rounds=1,
                    generations=2, per_round=1, problems=(1, 2, 3))
    with world.open(path) as w:
        w.image.begin()
        gen = evolve_root(w.image).runs["t"].generations[2]
        bad = dict(gen.lineages[0].seed_package)
        bad["helpers"] = (("twice", "(define (twice x) #<procedure>)"),) + bad["helpers"][1:]
        gen.lineages[0].seed_package = bad
        w.image.tm.commit()
    with world.open(path) as w:
        run = R.resume(w)
        assert run.status == "done"
        lost, kept = run.generations[2].lineages[0], run.generations[2].lineages[1]
        assert "cannot be installed" in lost.failure and "the helper twice" in lost.failure
        assert "\n" not in lost.failure and lost.fitness["total"] == 0
        assert not kept.failure and kept.fitness["solved"] == 1 and run.generations[2].winner == 1


def test_records_and_macros_travel_once_each_and_a_native_redefined_plainly_is_a_helper(made):
    w, lw, lineages = made
    lw.eval("(define-record pt x y)")
    lw.eval("(defmacro twice-m (e) (list '* 2 e))")
    lw.eval("(define (px v) (twice-m (pt-x (make-pt v 0))))")
    lw.eval("(define (bump x) (+ x 1000))")                    # no longer the native
    lw.eval("(extend-eval! 'ptx '(lambda (expr env) (+ (px (my-eval (cadr expr) env)) "
            "(pt-y (make-pt 0 (bump 0))) (if (pt? (make-pt 1 1)) 0 1))))")
    pkg = package_of(lw)
    names = [n for n, _ in pkg["helpers"]]
    assert names.count("pt") == 1 and {"twice-m", "px", "bump"} <= set(names)
    assert pkg["natives"] == () and check(pkg) == pkg
    other = lineage_world(w.image, lineages[1])
    try:
        install_package(other, pkg)
        assert other.eval("(eval '(ptx 5))") == 1010
        assert other.eval("(eval '(dbl 1))") == 1004        # bump is the plain define now
    finally:
        other.close()


def test_an_interrupt_while_installing_is_not_a_broken_package(made, monkeypatch):
    from world.evolve import package as P
    from world.lisp.errors import Interrupted
    w, lw, lineages = made
    pkg = package_of(lw)
    other = lineage_world(w.image, lineages[1])
    real = other.eval_form

    def ctrl_c(form, *a, **k):
        if "quad" in world.write(form):
            raise Interrupted()
        return real(form, *a, **k)
    monkeypatch.setattr(other, "eval_form", ctrl_c)
    try:
        with pytest.raises(Interrupted):
            P.install_package(other, pkg)
    finally:
        other.close()
