"""Completion of every name in the world, with docstrings or kinds as meta."""
from __future__ import annotations

from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from repl.completion import WorldCompleter, first_line, keywords_in

from repl_driver import drive


def complete(completer: WorldCompleter, text: str) -> dict[str, str]:
    """Completions of `text` (cursor at its end): text -> meta shown in the menu."""
    got = completer.get_completions(Document(text), CompleteEvent(completion_requested=True))
    return {c.text: c.display_meta_text for c in got}


def test_definitions_complete_with_their_docstring(w):
    w.eval('(define (make-counter) "A procedure that counts its calls." (lambda () 1))'
           "(define make-limit 10)")
    got = complete(WorldCompleter(w), "(make-")
    assert got["make-counter"] == "A procedure that counts its calls."
    assert got["make-limit"] == "integer"


def test_primitives_special_forms_macros_and_world_operations(w):
    w.eval("(defmacro swap! (a b) `(list ,b ,a))")
    c = WorldCompleter(w)
    assert complete(c, "(ca")["car"] == "(car pair) -> the first part of pair."
    assert complete(c, "(lamb")["lambda"].startswith("(lambda")
    assert complete(c, "(sw")["swap!"] == "macro"
    world_ops = complete(c, "(world/")
    assert {"world/save", "world/snapshots", "world/restore", "world/info"} <= set(world_ops)
    assert world_ops["world/save"].startswith("(world/save name")
    assert complete(c, "(insp")["inspect"].startswith("(inspect x)")


def test_keywords_in_use_and_inspect_topics(w):
    w.eval("(define cfg {:temperature 20 :humidity 3})")
    got = complete(WorldCompleter(w), "(get cfg :")
    assert got[":temperature"] == "keyword" and got[":humidity"] == "keyword"
    assert got[":world"] == "(inspect :world)" and got[":lineages"] == "(inspect :lineages)"


def test_the_table_follows_new_definitions(w):
    c = WorldCompleter(w)
    assert "zebra" not in complete(c, "(zeb")
    w.eval("(define zebra 1)")
    assert complete(c, "(zeb") == {"zebra": "integer"}


def test_commands_complete_at_the_start_of_the_input(w):
    got = complete(WorldCompleter(w), ",st")
    assert got == {",steps": "N: the step budget of each evaluation (no N: show it)"}
    assert ",steps" not in complete(WorldCompleter(w), "(list ,st")   # an unquote, not a command


def test_nothing_to_complete_after_a_delimiter(w):
    assert complete(WorldCompleter(w), "(car ") == {}


def test_tab_completes_in_a_real_session(w):
    w.eval('(define (make-counter) "Counts." (let ((n 0)) (lambda () (set! n (+ n 1)) n)))')
    run = drive(w, "(define c (make-cou\t))\r", "(c)\r", "(def\tine d 4)\r")
    out = run.text.splitlines()
    assert out[0].startswith("; c committed as ") and out[1] == "1"
    assert out[2].startswith("; d committed as ")


def test_tab_at_the_start_of_a_line_indents(w):
    run = drive(w, "(list 1\r\t2)\r")
    assert run.text.splitlines() == ["(1 2)"]


def test_helpers():
    assert first_line("One.\nTwo.") == "One."
    assert len(first_line("x" * 200)) == 60
    assert list(keywords_in('(get m :a) ":not" {:b-c 1}')) == [":a", ":not", ":b-c"]
