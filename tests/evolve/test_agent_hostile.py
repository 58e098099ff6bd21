"""No reply can stop an evolution run: a scripted model (the real SDK against the
loopback Messages server) sends hostile cells, and every one ends as a recorded
cell or note while the run finishes."""
from __future__ import annotations

import world
from world.lisp.errors import InternalError
from messages_server import good
from world.evolve import run as R

DEEP_LIST = "(define deep (let loop ((i 0) (acc '())) (if (= i 5000) acc (loop (+ i 1) (list acc)))))"
TOO_DEEP = "(define deeper (let loop ((i 0) (acc '())) (if (= i 12000) acc (loop (+ i 1) (vector acc)))))"
DAG = "(let loop ((i 0) (x '(1))) (if (= i 60) x (loop (+ i 1) (list x x))))"
DAG40 = "(let loop ((i 0) (x '(1))) (if (= i 40) x (loop (+ i 1) (list x x))))"

TURNS = [
    # each reply: at most five forms (max_forms), all of them hostile
    "\n".join([DEEP_LIST,
               '(display "\\xD800;")',                       # a lone surrogate: unreadable
               "(with-limit 20000 (let loop () (loop)))",    # a budget bomb, bounded by its cell
               "(%record-make 1 2 3)",                       # a forged internal constructor
               "(expt 7 30000)"]),                           # a big integer's result text
    "\n".join(["(" * 10_000 + "1" + ")" * 10_000,            # nesting past the reader's depth
               f"(define dag {DAG})",                        # shared structure, stored
               f"(with-limit 50000 (check {DAG40} {DAG40}))",  # equal? on two 2^40-path DAGs
               TOO_DEEP,                                     # too deep to store
               "(error (string (integer->char 55296)))"]),   # surrogate refused by integer->char
    "\n".join(["(car (quote x))", '(raise (make-string 100000 #\\a))',
               "(apply string-append (make-list 100 (make-string 100000 #\\b)))",
               "(vector-ref [1 2] 99999999999999999999)", "(done 0)"]),
]


def test_hostile_replies_are_recorded_as_cells_and_the_run_finishes(tmp_path, server):
    replies = iter(TURNS)
    server.default = lambda body: good(next(replies, "(done 0)") if "Problem" in
                                       body["messages"][-1]["content"] else '(note "no change")')
    with world.open(tmp_path / "w.fs") as w:
        run = R.start(w, agent="model", run_id="hostile", lineages=1, rounds=1, per_round=1,
                      problems=(1,), budgets=(5_000_000,), max_turns=len(TURNS),
                      reflection_turns=1)
        assert run.status == "done"
        att = run.generations[1].lineages[0].rounds[1].attempts[0]
        cells = [(c.kind, c.expr, c.result) for c in att.cells.values()]
        results = " | ".join(f"{k} {r}" for k, _, r in cells)
        assert not att.solved and att.why in ("turns used up", "budget spent"), results
        by_expr = {e: (k, r) for k, e, r in cells}
        assert by_expr[DEEP_LIST][0] == "CODE", results
        assert by_expr["(%record-make 1 2 3)"][0] == "ERROR"
        assert by_expr["(with-limit 20000 (let loop () (loop)))"][0] == "ERROR"
        assert "budget" in by_expr["(with-limit 20000 (let loop () (loop)))"][1]
        assert by_expr["(expt 7 30000)"][0] == "CODE" and len(by_expr["(expt 7 30000)"][1]) <= 400
        assert by_expr[f"(define dag {DAG})"][0] == "CODE"
        assert by_expr[f"(with-limit 50000 (check {DAG40} {DAG40}))"][0] == "ERROR"
        assert by_expr[TOO_DEEP] == ("ERROR", by_expr[TOO_DEEP][1])
        assert "deeper" in by_expr[TOO_DEEP][1] or "depth" in by_expr[TOO_DEEP][1]
        notes = " ".join(t.notes for t in att.turns.values())     # notes on replies cost no cell
        assert "could not be read" in notes          # the surrogate and the 10 000 parens
        for kind, expr, result in cells:             # every result is one clean line
            assert "Traceback" not in result and "\n" not in result
            result.encode("utf-8")                   # no lone surrogate anywhere
        # the world kept what it could store and nothing of what it refused
        assert "deep" in run.generations[1].lineages[0].root.definitions
        assert "deeper" not in run.generations[1].lineages[0].root.definitions


CRASHES = {
    "crash-internal": lambda: InternalError("a bug"),
    "crash-recursion": lambda: RecursionError("maximum recursion depth exceeded"),
    "crash-memory": lambda: MemoryError(),
    "crash-unicode": lambda: UnicodeEncodeError("ascii", "\ud800", 0, 1, "surrogates not allowed"),
    "crash-key": lambda: KeyError("x"),
}


def test_any_exception_a_cell_raises_is_its_result(tmp_path, server, monkeypatch):
    import world.evolve.meta as meta
    real = meta._run_in

    def run_in(env, form, meter, source):
        text = world.write(form)
        for name, make in CRASHES.items():
            if name in text:
                raise make()
        return real(env, form, meter, source)

    monkeypatch.setattr(meta, "_run_in", run_in)
    replies = iter(["\n".join(f"({n})" for n in CRASHES), "(done 0)"])
    server.default = lambda body: good(next(replies, "(done 0)") if "Problem" in
                                       body["messages"][-1]["content"] else '(note "no change")')
    with world.open(tmp_path / "w.fs") as w:
        run = R.start(w, agent="model", run_id="crash", lineages=1, rounds=1, per_round=1,
                      problems=(1,), max_turns=2, reflection_turns=1)
        assert run.status == "done"
        att = run.generations[1].lineages[0].rounds[1].attempts[0]
        got = {c.expr: (c.kind, c.result) for c in att.cells.values()}
        for name in CRASHES:
            kind, result = got[f"({name})"]
            assert kind == "ERROR" and "\n" not in result, (name, result)
            result.encode("utf-8")
        assert got["(crash-recursion)"][1].startswith("budget exceeded")
        assert got["(crash-memory)"][1].startswith("budget exceeded")
        assert got["(crash-internal)"][1].startswith("internal error")
