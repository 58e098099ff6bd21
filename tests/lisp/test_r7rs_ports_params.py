"""current-output-port, current-input-port and current-error-port as R7RS parameters:
`parameterize` redirects display and read; the default output is the evaluation's own;
the parameters and their ports survive being stored in an image; budgets hold."""
from __future__ import annotations

import pytest

import world
from world.lisp.budget import Limits
from world.lisp.errors import BudgetExceeded, EvalError, LispError, LispTypeError


def ev(source: str, w: world.World | None = None) -> str:
    return world.write((w or world.open(out=lambda t: None)).eval(source))


def test_parameterize_captures_output():
    src = ('(let ((p (open-output-string))) (parameterize ((current-output-port p)) (display "hi") '
           '(write "x") (newline) (write-string "ws") (write-char #\\c)) (get-output-string p))')
    assert ev(src) == '"hi\\"x\\"\\nwsc"'


def test_default_output_is_the_evaluations_output():
    out: list[str] = []
    w = world.open(out=out.append)
    assert ev("(list (output-port? (current-output-port)) (input-port? (current-input-port)) "
              "(port? (current-error-port)) (output-port-open? (current-output-port)))", w) == "(#t #t #t #t)"
    w.eval('(begin (display "a" (current-output-port)) (display "b") '
           '(parameterize ((current-error-port (open-output-string))) (display "c")))')
    assert "".join(out) == "abc"
    assert ev("(current-output-port)", w) == "#<output-port>"
    assert ev("(current-input-port)", w) == "#<input-port>"


def test_nested_parameterize_restores():
    src = ("(let ((a (open-output-string)) (b (open-output-string))) "
           "(parameterize ((current-output-port a)) (display 1) "
           "(parameterize ((current-output-port b)) (display 2)) (display 3)) "
           "(list (get-output-string a) (get-output-string b)))")
    assert ev(src) == '("13" "2")'


def test_escape_restores_output():
    src = ("(let ((p (open-output-string))) "
           "(guard (e (#t (display \"out\") (get-output-string p))) "
           "(parameterize ((current-output-port p)) (display \"in\") (raise 'x))))")
    out: list[str] = []
    assert ev(src, world.open(out=out.append)) == '"in"'
    assert out == ["out"]


def test_current_input_port_parameter():
    assert ev('(parameterize ((current-input-port (open-input-string "ab (c) d\\nline")))'
              " (list (read-char) (peek-char) (read) (read) (read-line) (read-line)))") == \
        '(#\\a #\\b b (c) " d" "line")'
    with pytest.raises(EvalError, match="no console input"):
        ev("(read-char)")
    with pytest.raises(EvalError, match="no console input"):
        ev("(read)")
    assert ev('(read "(1 2)")') == "(1 2)"


def test_values_are_checked():
    with pytest.raises(LispTypeError, match="an output port"):
        ev("(parameterize ((current-output-port 5)) 1)")
    with pytest.raises(LispTypeError, match="an output port"):
        ev('(parameterize ((current-output-port (open-input-string "x"))) 1)')
    with pytest.raises(LispTypeError, match="an input port"):
        ev("(parameterize ((current-input-port (open-output-string))) 1)")
    with pytest.raises(LispTypeError, match="parameter object"):
        ev("(parameterize ((car 1)) 1)")
    with pytest.raises(LispError):
        ev("(current-output-port 1)")


def test_closing_the_console_port_is_harmless():
    out: list[str] = []
    w = world.open(out=out.append)
    w.eval("(close-port (current-output-port))")
    w.eval("(close-output-port (current-output-port))")
    w.eval("(call-with-port (current-output-port) (lambda (p) (display 3 p)))")
    w.eval("(display 4)")
    w.eval("(flush-output-port (current-output-port))")
    assert "".join(out) == "34"


def test_budgets_hold_through_the_parameter():
    w = world.open(out=lambda t: None, limits=Limits(string=1000))
    with pytest.raises(BudgetExceeded):
        w.eval('(let ((p (open-output-string))) (parameterize ((current-output-port p)) '
               '(let loop () (display "0123456789") (loop))))')
    w = world.open(out=lambda t: None, limits=Limits(output=1000))
    with pytest.raises(BudgetExceeded):
        w.eval('(let loop () (display "0123456789" (current-output-port)) (loop))')


def test_parameters_and_ports_persist(tmp_path):
    path = tmp_path / "w.fs"
    out: list[str] = []
    w = world.open(path, out=out.append)
    w.eval("(define cp current-output-port)")
    w.eval("(define o (current-output-port))")
    w.eval("(define i (current-input-port))")
    w.eval("(define sp (open-output-string))")
    w.close()
    w = world.open(path, out=out.append)
    assert ev("(list o i (eq? o (current-output-port)) (eq? cp current-output-port) "
              "(eq? i (current-input-port)))", w) == "(#<output-port> #<input-port> #t #t #t)"
    w.eval('(parameterize ((cp sp)) (display "in") (display "x" o))')
    w.close()
    w = world.open(path, out=out.append)
    assert ev("(get-output-string sp)", w) == '"in"'
    w.close()
    assert out == ["x"]


def test_scheme_cxr_procedures():
    assert ev("(list (caddr '(1 2 3)) (cdddr '(1 2 3 4)) (cadddr '(1 2 3 4)) "
              "(caaaar '((((a))))) (cddddr '(1 2 3 4 5)))") == "(3 (4) 4 a (5))"
    with pytest.raises(LispTypeError, match="cadddr"):
        ev("(cadddr '(1 2))")
