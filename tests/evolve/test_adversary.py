"""Adversarial problems (--adversary): the player proposes problems once per generation;
each is judged (it parses, its reference solution passes through the seed my-eval within
budget, it is no duplicate and not trivial) with the reason kept; accepted ones get fresh
ids, are stored with the run, and enter rounds 2 and later; resumed and replayed runs draw
the same problems. Through the real SDK against the loopback Messages server."""
from __future__ import annotations

import json
import re

import pytest

import world
from agent_support import world_cli
from messages_server import good
from world.evolve import adversary as A
from world.evolve.proposals import MAX_SOURCE
from world.evolve.lineage import evolve_root
from world.evolve.pool import load_pool
from world.evolve.players import make_player
from world.evolve.report import table
from world.evolve.rounds import select, settings
from world.evolve.run import resume, start
from world.evolve.tournament import new_run

POOL = load_pool()
SUBSET = (1, 2, 3, 4, 5, 101, 102, 103, 201, 202)


def problem(name, call, expect, hidden, solution, category="number-theory", description=None):
    """A proposal as the model writes it."""
    description = description or f"Define it. Make {call} work."
    return (f'(problem :name "{name}" :category {category} :difficulty 2\n'
            f'  :description "{description}"\n  :call {call} :expect {expect}\n'
            f'  :hidden ({hidden})\n  :solution ({solution}))')


SQUARES = problem("sum-of-squares", "(sum-squares 3)", "14",
                  "((sum-squares 0) 0) ((sum-squares 1) 1) ((sum-squares 5) 55)",
                  "(define (sum-squares n) (if (= n 0) 0 (+ (* n n) (sum-squares (- n 1)))))")
WRONG = problem("sum-of-cubes", "(sum-cubes 2)", "9",
                "((sum-cubes 0) 0) ((sum-cubes 3) 36)",
                "(define (sum-cubes n) (if (= n 0) 0 (+ (* n n n) (sum-cubes (- n 2)))))")
SAME_CALL = problem("another-factorial", "(factorial 5)", "120",
                    "((factorial 0) 1) ((factorial 3) 6)",
                    "(define (factorial n) (if (= n 0) 1 (* n (factorial (- n 1)))))",
                    category="standard")
IDENTITY = problem("echo", "(echo 3)", "3", "((echo 0) 0) ((echo '(1 2)) (1 2))",
                   "(define (echo x) (if (number? x) (+ x 0) x))", category="standard")
RENAMED = problem("my-length", "(my-len '(1 2 3))", "3",
                  "((my-len '()) 0) ((my-len '(a)) 1)", "(define (my-len l) (length l))",
                  category="standard")
RENAMED_COPY = problem("squares-again", "(sq-total 4)", "30",
                       "((sq-total 0) 0) ((sq-total 2) 5)",
                       "(define (sq-total k) (if (= k 0) 0 (+ (* k k) (sq-total (- k 1)))))")


def block(*forms):
    return "Here are my problems.\n```lisp\n" + "\n".join(forms) + "\n```\n"


def adversary_or_solver(script):
    """A model: the adversary prompts get the next of `script`, problem prompts the reference
    solution (of a pool problem, or of an accepted proposal)."""
    replies = list(script)

    def answer(body):
        text = body["messages"][-1]["content"]
        system = json.dumps(body.get("system", ""))
        if "You design Lisp problems" in system:
            return good(replies.pop(0) if replies else '(note "no more")')
        m = re.search(r"Problem (\d+) \(", text)
        if m is None:
            return good('(note "no change")')
        pid = int(m.group(1))
        if pid in POOL:
            p = POOL.get(pid)
        else:
            p = A.parse_proposal(world.read(SQUARES), pid)
        if "## Scratchpad so far\n(empty)" not in text:
            return good(f"(done {p.call_text})")
        return good(f"```lisp\n{p.solution_text()}\n(done {p.call_text})\n```")
    return answer


def test_proposals_are_judged_and_the_reasons_kept(server, tmp_path):
    record = tmp_path / "replies.jsonl"
    server.add(good(block(SQUARES, WRONG, SAME_CALL)),
               good(block(IDENTITY, RENAMED, RENAMED_COPY)),
               good("A problem about trees (say, (depth t)) would be nice, but I am not sure."))
    with world.open(str(tmp_path / "w.fs")) as w:
        w.image.begin()
        s = settings(adversary=True, rounds=3, problems=SUBSET)
        run = new_run(w.image, "r", s, "model")
        player = make_player("model", "claude-sonnet-4-6", str(record), {"settings": {}})
        for g in (1, 2, 3):
            A.ask(w.image, run, g, player, POOL)
        A.ask(w.image, run, 1, player, POOL)            # asked once per generation only
        assert len(server.requests) == 3
        first = server.requests[0]
        assert "You design Lisp problems" in json.dumps(first["system"])
        prompt = first["messages"][-1]["content"]
        assert "is accepted only when" in prompt and "factorial: (factorial 5)" in prompt
        assert "at most 1000 steps" in prompt           # the least budget of rounds 2 and 3
        got = [(p["generation"], p["status"], p["id"], p["name"], p["why"])
               for p in A.proposals(run)]
        usage = run.usage.as_dict()
    assert got[0] == (1, "accepted", 1001, "sum-of-squares", "valid")
    assert got[1][1:4] == ("rejected", 0, "sum-of-cubes")
    assert "wrong reference solution" in got[1][4] and "(sum-cubes 3)" in got[1][4]
    assert got[2][1] == "rejected" and got[2][4].startswith("duplicate: the call (factorial 5)")
    assert got[3][1] == "rejected" and "its own literal arguments back" in got[3][4]
    assert got[4][1] == "rejected" and "builtin length" in got[4][4]
    assert got[5][1] == "rejected" and got[5][4] == \
        "duplicate: the solution is problem 1001 (sum-of-squares)'s, renamed"
    assert got[6][:2] == (3, "rejected") and got[6][4].startswith("unreadable reply")
    assert usage["calls"] == 3 and usage["tokens_in"] > 0 and usage["tokens_out"] > 0
    # the next prompt tells the model what became of its earlier proposals
    later = server.requests[1]["messages"][-1]["content"]
    assert "sum-of-squares: accepted as problem 1001" in later
    assert "sum-of-cubes: rejected: wrong reference solution" in later
    keys = [json.loads(line).get("key") for line in record.read_text().splitlines()]
    assert keys[1:] == ["adversary/g1/t0", "adversary/g2/t0", "adversary/g3/t0"]
    with world.open(str(tmp_path / "w.fs")) as w:     # stored with the run
        run = evolve_root(w.image).runs["r"]
        [p] = A.accepted(run)
    assert (p.id, p.name, p.call_text, p.expect_text) == (1001, "sum-of-squares",
                                                           "(sum-squares 3)", "14")


def test_accepted_problems_enter_round_two_and_later_and_replay_the_same(server, tmp_path):
    server.default = adversary_or_solver([block(SQUARES, WRONG)])
    record = tmp_path / "replies.jsonl"
    cfg = dict(agent="model", adversary=True, lineages=1, rounds=3, per_round=3,
               problems=SUBSET, seed=2)
    with world.open(str(tmp_path / "w.fs")) as w:
        run = start(w, run_id="r", record=str(record), **cfg)
        problems = dict(run.generations[1].problems)
        lineage = run.generations[1].lineages[0]
        attempts = {a.problem: a for a in lineage.attempts()}
        full = table(run)
        calls = run.usage.as_dict()["calls"]
        replayed = start(w, run_id="again", agent=f"replay:{record}")
        assert dict(replayed.generations[1].problems) == problems
        assert table(replayed)[1:] == [[*row[:10], row[10], row[11]] for row in full[1:]]
    assert all(pid < 1000 for pid in problems[1])                # round 1: the pool's only
    assert 1001 in problems[2] and 1001 not in problems[3]      # no repeat in a generation
    assert len(problems[2]) == 3
    assert attempts[1001].solved and attempts[1001].name == "sum-of-squares"
    assert calls == len(server.requests)


class Stop(BaseException):
    """Ends a run at a chosen point, as a kill would."""


def _run(path, stop=None, **cfg):
    def progress(e):
        if stop is not None and stop(e):
            raise Stop()
    w = world.open(str(path))
    try:
        run = start(w, progress, None, "r", **cfg)
        return table(run), {g.number: dict(g.problems) for g in run.generations.values()}, \
            A.proposals(run)
    except Stop:
        w.image.abort()
        return None
    finally:
        w.close()


def _resume(path):
    with world.open(str(path)) as w:
        run = resume(w)
        return table(run), {g.number: dict(g.problems) for g in run.generations.values()}, \
            A.proposals(run)


def test_the_reference_stand_in_proposes_and_a_resumed_run_draws_the_same(tmp_path):
    cfg = dict(agent="reference", adversary=True, lineages=1, rounds=2, per_round=3,
               generations=2, seed=5)
    full = _run(tmp_path / "full.fs", **cfg)
    rows, problems, proposals = full
    assert [p["status"] for p in proposals] == ["accepted"] * 6
    assert [p["id"] for p in proposals] == list(range(1001, 1007))
    assert all(p["name"].endswith("-each") for p in proposals)
    assert all(pid < 1000 for g in problems.values() for pid in g[1])
    assert all(any(pid > 1000 for pid in g[2]) for g in problems.values())
    assert all(row[3] == "6/6" for row in rows[1:])             # the reference solves them too
    # stopped between generation 2's ask and its draw (a model run stopped later: below)
    path = tmp_path / "stopped.fs"
    assert _run(path, lambda e: e.get("phase") == "adversary" and e["generation"] == 2,
                **cfg) is None
    assert _resume(path) == full


def test_select_mixes_accepted_problems_into_rounds_two_and_later_only():
    extra = [A.parse_proposal(world.read(SQUARES), 1001),
             A.parse_proposal(world.read(RENAMED_COPY), 1002)]
    for mode in ("tournament", "single"):
        s = settings(mode=mode, seed=3, per_round=6)
        used: set[int] = set()
        rounds = []
        for r in (1, 2, 3, 4):
            ids = select(POOL, s, 1, r, used, extra)
            assert ids == select(POOL, s, 1, r, used, extra)        # deterministic
            rounds.append(ids)
            used |= set(ids)
        assert rounds[0] == select(POOL, s, 1, 1)                    # round 1 untouched
        assert all(len(ids) == 6 and sum(i > 1000 for i in ids) <= 2 for ids in rounds[1:])
        assert sorted(i for ids in rounds for i in ids if i > 1000) == [1001, 1002]


@pytest.mark.parametrize("solution,why", [
    ("(define (sum-squares n) (if (= n 0) 0 (world/save \"x\")))", "unbound variable: world/save"),
    ("(define (sum-squares n) (let loop ((i 0)) (loop (+ i 1))))", "budget"),
    ("(define (sum-squares n) (if (= n 0) 0 (set-eval-mode! 'ground)))",
     "wrong reference solution"),
    ("(sum-squares 3)", ":solution must be a list of (define ...) forms"),
])
def test_hostile_reference_solutions_are_refused_with_a_reason(solution, why):
    text = problem("hostile", "(sum-squares 3)", "14",
                   "((sum-squares 0) 0) ((sum-squares 5) 55)", solution)
    [verdict] = A.judge(block(text), settings(adversary=True), A.Known(POOL), 1, 1001)
    assert verdict["status"] == "rejected" and why in verdict["why"], verdict["why"]


def test_oversized_and_surplus_proposals_are_refused():
    big = problem("big", "(big 1)", "1", "((big 0) 0) ((big 2) 2)",
                  "(define (big x) (if (= x 0) 0 (begin " + "1 " * 4000 + "x)))")
    verdicts = A.judge(block(big, SQUARES, SQUARES, SQUARES, SQUARES), settings(adversary=True),
                       A.Known(POOL), 1, 1001)
    assert verdicts[0]["why"].startswith("too large")
    assert verdicts[1]["status"] == "accepted"
    assert verdicts[2]["why"].startswith("duplicate: the name 'sum-of-squares'")
    assert verdicts[3]["why"] == "2 proposal(s) over the limit of 3 a generation, not judged"
    assert len(verdicts) == 4 and all(len(v["source"]) <= MAX_SOURCE for v in verdicts)


@pytest.mark.parametrize("name", ["my-eval", "car", "env-bind"])
def test_a_solution_redefining_a_name_lineages_have_is_refused(name):
    text = problem("clash", f"({name} 3)", "9", f"(({name} 0) 0) (({name} 2) 4)",
                   f"(define ({name} n) (if (= n 0) 0 (* n n)))")
    [verdict] = A.judge(block(text), settings(adversary=True), A.Known(POOL), 1, 1001)
    assert verdict["why"] == (f"not a valid problem: the solution redefines {name}, which every "
                              f"lineage's world already has")


def test_a_deeply_nested_or_hostile_reply_is_a_verdict_not_a_crash():
    deep = "(" * 20_000 + ")" * 20_000
    for text in (deep, block(problem("deep", "(deep 1)", deep[:5000] + deep[-5000:], "", "")),
                 block("(problem " + "(problem) " * 2000 + ")"), "\x00" * 100):
        verdicts = A.judge(text, settings(adversary=True), A.Known(POOL), 1, 1001)
        assert verdicts and all(v["status"] == "rejected" and v["why"] for v in verdicts)


def test_the_cli_flag_runs_the_adversary_and_the_report_lists_its_verdicts(tmp_path):
    path = str(tmp_path / "w.fs")
    args = ["--world", path]
    out = world_cli("evolve", *args, "--agent", "reference", "--adversary", "--lineages", "1",
                    "--rounds", "2", "--per-round", "3", "--run-id", "adv", cwd=str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "adversary: 3 of 3 proposals accepted" in out.stdout
    assert re.search(r"^  g1 #1001 \S+-each \(\S+\): accepted$", out.stdout, re.M)
    report = world_cli("evolve", "report", "adv", *args, cwd=str(tmp_path))
    assert report.returncode == 0, report.stderr
    assert "adversary: 3 of 3 proposals accepted" in report.stdout
    with world.open(path) as w:
        shown = w.eval("(map (lambda (p) (list (get p :id) (get p :status))) "
                       "(get (car (get (inspect :lineages) :runs)) :adversary))")
    assert world.write(shown) == '((1001 "accepted") (1002 "accepted") (1003 "accepted"))'


def test_a_model_error_is_recorded_as_the_generations_verdict_and_counted(server, tmp_path):
    with world.open(str(tmp_path / "w.fs")) as w:        # the script is empty: every call fails
        w.image.begin()
        run = new_run(w.image, "r", settings(adversary=True, rounds=2, retries=1), "model")
        A.ask(w.image, run, 1, make_player("model", "claude-sonnet-4-6", retries=1), POOL)
        [verdict] = A.proposals(run)
        assert verdict["status"] == "rejected" and verdict["why"].startswith("model error: ")
        assert run.usage.as_dict()["calls"] == 2 and A.accepted(run) == []
        assert A.proposal_lines(run)[0] == "adversary: 0 of 1 proposals accepted"


def test_a_run_stopped_after_the_ask_resumes_without_asking_again(server, tmp_path):
    server.default = adversary_or_solver([block(SQUARES), block(SQUARES)])
    cfg = dict(agent="model", adversary=True, lineages=1, rounds=2, per_round=3,
               problems=SUBSET, seed=2)
    full = _run(tmp_path / "full.fs", **cfg)
    asked = len([r for r in server.requests if "You design" in json.dumps(r["system"])])
    path = tmp_path / "stopped.fs"
    assert _run(path, lambda e: e.get("phase") == "problem" and e.get("round") == 2, **cfg) is None
    assert _resume(path) == full
    assert 1001 in full[1][1][2]                   # generation 1, round 2
    assert asked == 1 and len([r for r in server.requests
                               if "You design" in json.dumps(r["system"])]) == 2


def test_a_problem_whose_answers_are_its_arguments_as_a_list_is_trivial():
    text = problem("gather", "(gather 1 2)", "(1 2)", "((gather 3 4) (3 4)) ((gather 'a 'b) (a b))",
                   "(define (gather a b) (if (number? a) (cons a (cons b '())) (list a b)))")
    [verdict] = A.judge(block(text), settings(adversary=True), A.Known(POOL), 1, 1001)
    assert verdict["why"].startswith("trivial: every case expects its own literal arguments")


def test_the_rules_are_calibrated_on_the_pool():
    """No shipped problem is trivial by these rules, and each one proposed again is a duplicate."""
    from world.evolve.proposals import trivial
    known = A.Known(POOL)
    assert [p.id for p in POOL if trivial(p)] == []
    assert all(known.duplicate(p).startswith("duplicate: the name") for p in POOL)
    copy = problem("fact-again", "(fact2 6)", "720", "((fact2 0) 1) ((fact2 3) 6)",
                   "(define (fact2 k)   (if (= k 0) 1 (* k (fact2 (- k 1)))))", "standard")
    assert known.duplicate(A.parse_proposal(world.read(copy), 1001)) == \
        "duplicate: the solution is problem 1 (factorial)'s, renamed"
