"""Agent files in process: AGENT checked before anything runs, each validation error one
line at its place, caps narrowed, state kept in a real FileStorage world per agent name."""
from __future__ import annotations

from pathlib import Path

import pytest

import world
from world.lisp.errors import BudgetExceeded, LispError, SandboxError
from world.peer.agentfile import Agent, AgentFileError, allowed_caps
from world.peer.agentstate import RUNS_KEPT, run_agent, show
from world.lisp.types import Keyword

ROOT = Path(__file__).resolve().parents[2]
COUNTER = str(ROOT / "examples" / "counter.lispy")
NOTES = str(ROOT / "examples" / "notes.lispy")
HEAD = '(define AGENT {:name "h" :version "1" :caps [:core] :description "x"})\n'


def agent(tmp_path: Path, text: str, caps: tuple[str, ...] = ("core",)) -> Agent:
    """An Agent from `text` written to h.lispy."""
    path = tmp_path / "h.lispy"
    path.write_text(text, encoding="utf-8")
    return Agent(str(path), caps)


def test_the_examples_run() -> None:
    counter = Agent(COUNTER)
    out = counter.step(counter.spec.initial, 5)
    assert out.text == "{:count 1 :total 5}"
    notes = Agent(NOTES, ("core", "output"))
    out = notes.step(notes.spec.initial, "buy some milk")
    assert out.text == '{:notes ("buy some milk") :words 3}'
    assert out.output == "noted: buy some milk\n"


# (file text, substring of the error line, its line:col or None)
INVALID = [
    ("(define (run s i) s)", "defines no AGENT", "1:1"),
    ("(define AGENT 5)\n(define (run s i) s)", "AGENT must be a map literal", "1:1"),
    ("(define AGENT '{:name \"h\"})", "AGENT must be a map literal", "1:1"),
    ("\n(define (AGENT) {})", "AGENT must be a map literal", "2:1"),
    ('(define AGENT {:name "h" :version "1" :caps [:core]})', "AGENT has no :description", "1:1"),
    ('(define AGENT {:name 5 :version "1" :caps [:core] :description ""})', "AGENT :name must", "1:1"),
    ('(define AGENT {:name "h" :version 1.5 :caps [:core] :description ""})', "AGENT :version", "1:1"),
    ('(define AGENT {:name "h" :version "1" :caps :core :description ""})', "vector of keywords", "1:1"),
    ('(define AGENT {:name "h" :version "1" :caps [:core] :description "" :x 1})', "unknown key :x",
     "1:1"),
    ('(define AGENT {:name "h" :version "1" :caps [:foo] :description ""})',
     ":foo, which is not a capability group", "1:1"),
    ('(define AGENT {:name "h" :version "1" :caps [:core :image] :description ""})',
     ":image, which an agent file is never granted", "1:1"),
    ('(define AGENT {:name "h" :version "1" :caps [:host] :description ""})',
     ":host, which an agent file is never granted", "1:1"),
    ('(define AGENT {:name "h" :version "1" :caps [:internal] :description ""})',
     ":internal, which an agent file is never granted", "1:1"),
    (HEAD + HEAD + "(define (run s i) s)", "AGENT is defined twice (first at 1:1)", "2:1"),
    (HEAD + "(begin (define AGENT 5))\n(define (run s i) s)", "AGENT is defined more than once", "2:"),
    (HEAD + "(set! AGENT 5)\n(define (run s i) s)", "cannot be changed with set!", "2:1"),
    (HEAD, "defines no run procedure", "1:1"),
    (HEAD + "(define (run s) s)", "run takes 1 argument; it must take 2", "2:1"),
    (HEAD + "(define (run s i j) s)", "run takes 3 arguments", "2:1"),
    (HEAD + "(define run 5)", "run must be a procedure", "2:1"),
    (HEAD + "(define (run s i) s)\n(define (run s i) i)", "run is defined more than once", "3:1"),
    (HEAD + "(defmacro run (s i) s)", "run must be defined as a procedure, not a macro", "2:1"),
    (HEAD + "(display 1)\n(define (run s i) s)", "display needs the :output capability", "2:1"),
    (HEAD + "(inspect 'run)\n(define (run s i) s)", "inspect needs the :reflect capability; "
     "this run was granted [:core] (an agent file is never granted it)", "2:1"),
    (HEAD + "(define (run s i) (eval '(+ 1 2) (interaction-environment)))", "eval needs the :eval",
     "2:19"),
    (HEAD + "(define (run s i) (sandbox '(+ 1 2)))", "sandbox needs the :eval", "2:19"),
    (HEAD + "(define (run s i) (world/save \"x\"))", "world/save needs the :image", "2:19"),
    (HEAD + "(define (run s i) (message/sign 1))", "needs the :host", "2:19"),
    (HEAD + "(define (run s i) (__import__ \"os\"))", "unbound variable: __import__", "2:19"),
    (HEAD + "(define (run s i) (list _env g_eval __builtins__))", "unbound variable: _env", "2:"),
    (HEAD + "(define (run s i) ((string->symbol \"eval\") 1))", "not a procedure", "2:1"),
    (HEAD + "(define (run s i) (set! run 5) s)", "globals are sealed (run)", "2:19"),
    (HEAD + "(define (run s i) (define AGENT 1) (set! AGENT 2) s)\n(define x 1)", None, None),
    (HEAD + "(define (run s i) (lambda () 1))", "holds a procedure; an agent's state must be data",
     "2:1"),
    (HEAD + "(define (run s i) (list (box 1)))", "holds a box", "2:1"),
    (HEAD + "(define (run s i) (if #f #f))", "is not data that reads back", "2:1"),
    (HEAD + "(define (run s i) (let l ((n 0) (x '())) (if (= n 3000) x (l (+ n 1) (list x)))))",
     "nesting deeper than 1000", "2:1"),
    (HEAD + "(define (run s i) (make-string 1100000 #\\a))", "more than the 1048576", "2:1"),
    (HEAD + "(define (run s i) (let l () (l)))", "step budget of 1000000 exhausted", "2:19"),
    (HEAD + "(define (run s i) (expt 10 100000000))", "integer limit", "2:19"),
    (HEAD + "(define (run s i) " + "(" * 2000 + ")" * 2000 + ")", "nesting deeper than 1000", "2:"),
    (HEAD + "(define (run s i) " + "9" * 400_000 + ")", "larger than the 1000000-bit", "2:19"),
    ('(define AGENT {:name "h" :name "g" :version "1" :caps [:core] :description ""})',
     "duplicate map key :name", "1:"),
]


@pytest.mark.parametrize("text, said, where", INVALID)
def test_each_validation_error_is_one_line_at_its_place(tmp_path: Path, text: str, said: str | None,
                                                        where: str | None) -> None:
    try:
        a = agent(tmp_path, text)
        out = a.step(a.spec.initial, 1)
    except LispError as e:
        line = str(e)
        assert said is not None, line
        assert "\n" not in line and said in line, line
        assert line.startswith(f"{tmp_path / 'h.lispy'}:{where}"), line
        return
    assert said is None, f"ran: {out.text}"       # local defines inside run are no globals


def test_a_huge_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "h.lispy"
    path.write_bytes(HEAD.encode() + b";" * (2 << 20))
    with pytest.raises(AgentFileError, match="larger than 1048576 bytes"):
        Agent(str(path))
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(AgentFileError, match="not UTF-8"):
        Agent(str(path))
    with pytest.raises(AgentFileError, match="cannot read agent file"):
        Agent(str(tmp_path / "none.lispy"))


def test_caps_are_the_agents_narrowed_by_the_callers(tmp_path: Path) -> None:
    text = HEAD.replace("[:core]", "[:core :output]") + '(define (run s i) (display "hi") i)'
    narrow = agent(tmp_path, text, ("core",))
    assert narrow.caps == {"core"}
    with pytest.raises(SandboxError, match=r"display needs the :output capability; this run was "
                                           r"granted \[:core\]"):
        narrow.step(0, 1)
    wide = agent(tmp_path, text, ("core", "output", "simulate"))
    assert wide.caps == {"core", "output"}              # never more than AGENT asks
    assert wide.step(0, 1).output == "hi"
    assert wide.grant(["core"]) == {"core"}             # a peer's grant narrows again
    with pytest.raises(ValueError, match="only core, output, simulate, not host, image"):
        allowed_caps("core,host,image")


def test_capabilities_seen_inside_are_the_grant(tmp_path: Path) -> None:
    a = agent(tmp_path, HEAD.replace("[:core]", "[:core :output]") +
              "(define (run s i) (capabilities))", ("core", "output"))
    assert a.step(0, 1).text == "(:core :output)"


def test_state_persists_and_reopens(tmp_path: Path) -> None:
    image = str(tmp_path / "w.fs")
    counter = Agent(COUNTER)
    with world.open(image) as w:
        assert run_agent(w, counter, 5).text == "{:count 1 :total 5}"
        assert run_agent(w, counter, 2).text == "{:count 2 :total 7}"
    with world.open(image) as w:                # another connection: the state survived
        assert run_agent(w, counter, 3).text == "{:count 3 :total 10}"
        view = show(w, "counter")
    assert view.get(Keyword("runs")) == 3
    assert view.get(Keyword("recent")).car.get(Keyword("input")) == "3"


def test_state_replaces_and_failed_run_keeps(tmp_path: Path) -> None:
    image = str(tmp_path / "w.fs")
    counter = Agent(COUNTER)
    with world.open(image) as w:
        run_agent(w, counter, 1)
        start = world.read("{:count 10 :total 100}")
        assert run_agent(w, counter, 1, state=start, replace=True).text == "{:count 11 :total 101}"
        with pytest.raises(LispError, match="the input must be a number"):
            run_agent(w, counter, "x")
        with pytest.raises(BudgetExceeded):
            run_agent(w, counter, 1, limits=world.Limits(steps=3))
        view = show(w, "counter")
    assert world.write(view.get(Keyword("state"))) == "{:count 11 :total 101}"
    recent = view.get(Keyword("recent"))
    assert "the input must be a number" in recent.cdr.car.get(Keyword("outcome"))
    with world.open(image) as w:
        assert run_agent(w, counter, 1).text == "{:count 12 :total 102}"


def test_a_state_holding_a_procedure_is_refused_and_runs_are_bounded(tmp_path: Path) -> None:
    counter = Agent(COUNTER)
    with world.open(str(tmp_path / "w.fs")) as w:
        fn = w.eval("(lambda (x) x)")
        with pytest.raises(AgentFileError, match="the state holds a procedure"):
            run_agent(w, counter, 1, state=fn, replace=True)
        for i in range(RUNS_KEPT + 5):
            run_agent(w, counter, i)
        record = w.image.conn.root()["agents"]["counter"]
        assert len(record.runs) == RUNS_KEPT and record.runs_count == RUNS_KEPT + 5
    with world.open(str(tmp_path / "w.fs")) as w:
        with pytest.raises(AgentFileError, match="no agent named nobody has run in this world "
                                                 r"\(agents here: counter\)"):
            show(w, "nobody")


def test_the_stored_state_altered_in_the_image_is_refused(tmp_path: Path) -> None:
    import transaction
    counter = Agent(COUNTER)
    with world.open(str(tmp_path / "w.fs")) as w:
        run_agent(w, counter, 1)
        w.image.begin()
        w.image.conn.root()["agents"]["counter"].state = "{:count"
        w.image.commit("tamper")
        with pytest.raises(AgentFileError, match="stored state of agent counter does not read"):
            run_agent(w, counter, 1)
    del transaction


def test_inspect_agents_shows_state_and_runs(tmp_path: Path) -> None:
    with world.open(str(tmp_path / "w.fs")) as w:
        assert world.write(w.eval("(inspect :agents)")) == "{:agents () :count 0}"
        run_agent(w, Agent(COUNTER), 4)
        view = w.eval("(get (car (get (inspect :agents) :agents)) :state)")
        assert world.write(view) == "{:count 1 :total 4}"
        assert w.eval("(get (car (get (car (get (inspect :agents) :agents)) :recent)) :outcome)") \
            == Keyword("ok")


def test_two_sessions_running_one_agent_at_once_both_count(tmp_path: Path) -> None:
    from world.objects.server import Server
    server = Server(str(tmp_path / "z.fs"))
    counter = Agent(COUNTER)
    try:
        with world.open(zeo=server.address) as w1, world.open(zeo=server.address) as w2:
            run_agent(w1, counter, 1)
            meddled = []

            def meanwhile() -> None:        # another session stores a run inside w1's run
                if not meddled:
                    meddled.append(run_agent(w2, counter, 10).text)
            out = run_agent(w1, counter, 100, before=meanwhile)
            assert meddled == ["{:count 2 :total 11}"]
            assert out.text == "{:count 3 :total 111}"      # w1's run ran again on w2's state
    finally:
        server.stop()
