"""R7RS string ports (report 6.13): reading and writing strings through ports,
a port kept in a definition surviving a commit and a reopen, and the host's
files staying absent."""
from __future__ import annotations

import pytest

import world
from world.lisp.errors import BudgetExceeded, EvalError, LispError, LispTypeError, ReadError
from world.lisp.errors import IncompleteInput
from world.lisp.types import Char


def ev(source: str, w: world.World | None = None) -> str:
    return world.write((w or world.open(out=lambda t: None)).eval(source))


def err(source: str) -> LispError:
    with pytest.raises(LispError) as info:
        world.open(out=lambda t: None).eval(source)
    assert "\n" not in str(info.value)
    return info.value


VALUES = [
    ('(let ((p (open-input-string "(a b) 42 \\"s\\" #(1) #u8(2)"))) '
     "(list (read p) (read p) (read p) (read p) (read p) (eof-object? (read p))))",
     '((a b) 42 "s" [1] #u8(2) #t)'),
    ('(let ((p (open-input-string "ab"))) (list (peek-char p) (read-char p) (read-char p) (read-char p)))',
     "(#\\a #\\a #\\b #<eof>)"),
    ('(let ((p (open-input-string "one\\ntwo\\n\\nlast"))) '
     "(list (read-line p) (read-line p) (read-line p) (read-line p) (eof-object? (read-line p))))",
     '("one" "two" "" "last" #t)'),
    ('(let ((p (open-input-string "abcdef"))) (list (read-string 4 p) (read-string 4 p) (read-string 4 p)))',
     '("abcd" "ef" #<eof>)'),
    ('(char-ready? (open-input-string ""))', "#t"),
    ('(let ((p (open-output-string))) (write "a\\"b" p) (display "a\\"b" p) (newline p) '
     "(write-char #\\z p) (write-string \"hello\" p 1 3) (write-simple 'x p) (write-shared 'y p) "
     "(get-output-string p))", '"\\"a\\\\\\"b\\"a\\"b\\nzelxy"'),
    ("(let ((p (open-output-string))) (display 1 p) (get-output-string p) (display 2 p) (get-output-string p))",
     '"12"'),
    ("(list (input-port? (open-input-string \"\")) (output-port? (open-input-string \"\")) "
     "(output-port? (open-output-string)) (port? 5) (textual-port? (open-output-string)) "
     "(binary-port? (open-output-string)))", "(#t #f #t #f #t #f)"),
    ("(let ((p (open-input-string \"x\"))) (close-port p) (input-port-open? p))", "#f"),
    ("(let ((p (open-output-string))) (close-output-port p) (output-port-open? p))", "#f"),
    ("(eof-object? (eof-object))", "#t"), ("(eof-object? \"\")", "#f"), ("(eof-object)", "#<eof>"),
    ("(read \"(1 2)\")", "(1 2)"),
    ('(call-with-port (open-input-string "42 43") read)', "42"),
    ('(let ((p (open-input-string "x"))) (call-with-port p read-char) (input-port-open? p))', "#f"),
    ("(let ((p (open-output-string))) (write 1 p) (flush-output-port p) (flush-output-port) "
     "(get-output-string p))", '"1"'),
]


@pytest.mark.parametrize("source,expected", VALUES)
def test_value(source: str, expected: str) -> None:
    assert ev(source) == expected


def test_writing_without_a_port_goes_to_the_output() -> None:
    out: list[str] = []
    w = world.open(out=out.append)
    w.eval('(write-char #\\a) (write-string "bc") (display "d") (write "e") (newline)')
    assert "".join(out) == 'abcd"e"\n'


ERRORS = [
    ("(read-char)", EvalError, "no console input"),
    ("(read-line)", EvalError, "open-input-string"),
    ("(read-char (open-output-string))", LispTypeError, "input port"),
    ("(write-char #\\a (open-input-string \"\"))", LispTypeError, "output port"),
    ("(let ((p (open-input-string \"x\"))) (close-port p) (read-char p))", EvalError, "closed"),
    ("(get-output-string (open-input-string \"\"))", LispTypeError, "open-output-string"),
    ("(write-u8 1)", EvalError, "binary ports"),
]


@pytest.mark.parametrize("source,cls,text", ERRORS)
def test_errors(source: str, cls: type, text: str) -> None:
    e = err(source)
    assert isinstance(e, cls) and text in str(e)


def test_bad_datum_on_a_port_names_line_and_column() -> None:
    e = err('(let ((p (open-input-string "1\\n  (a . )"))) (read p) (read p))')
    assert isinstance(e, ReadError) and "string port:2:" in str(e)
    e = err('(read (open-input-string "(1 2"))')
    assert isinstance(e, ReadError) and not isinstance(e, IncompleteInput)
    assert "ends inside a datum" in str(e)


def test_output_port_is_bounded_by_the_string_limit() -> None:
    from world.lisp.budget import Limits
    w = world.open(out=lambda t: None, limits=Limits(string=1000))
    with pytest.raises(BudgetExceeded):
        w.eval('(let ((p (open-output-string))) (let loop ((i 0)) (write-string "0123456789" p) (loop (+ i 1))))')


def test_reading_a_long_port_is_linear() -> None:
    # each read continues where the last stopped: 20 000 data cost far less than the step limit
    w = world.open(out=lambda t: None)
    text = " ".join(str(i) for i in range(20_000))
    w.eval(f'(define p (open-input-string "{text}"))')
    assert w.eval("(let loop ((n 0)) (if (eof-object? (read p)) n (loop (+ n 1))))") == 20_000


def test_no_file_ports() -> None:
    for name in ("open-input-file", "open-output-file", "call-with-output-file", "with-input-from-file"):
        e = err(f"({name} \"x\")")
        assert isinstance(e, EvalError) and "by design" in e.message and "string" in e.message
    for name in ("open-input-bytevector", "read-u8", "write-u8", "write-bytevector"):
        e = err(f"({name} #u8(1))")
        assert isinstance(e, EvalError) and "by design" in e.message and "bytevector" in e.message


def test_ports_persist_across_commit_and_reopen(tmp_path) -> None:
    path = tmp_path / "w.fs"
    w = world.open(path, out=lambda t: None)
    w.eval('(define in (open-input-string "alpha (beta) gamma"))')
    w.eval("(define out (open-output-string))")
    assert ev("(read in)", w) == "alpha"
    w.eval('(write-string "kept " out)')
    w.eval("(define eof (eof-object))")
    w.close()
    w = world.open(path, out=lambda t: None)
    assert ev("(read in)", w) == "(beta)"           # the position was saved with the form that moved it
    w.eval("(display 42 out)")
    assert ev("(get-output-string out)", w) == '"kept 42"'
    assert ev("(eof-object? eof)", w) == "#t"
    assert w.eval("(history/verify)") is not False
    w.close()
    w = world.open(path, out=lambda t: None)
    assert ev("(list (read in) (eof-object? (read in)))", w) == "(gamma #t)"
    assert ev("(get-output-string out)", w) == '"kept 42"'
    w.close()


def test_a_tampered_port_is_an_error_not_a_crash() -> None:
    # the state a damaged or forged image could hold; the port's procedures check it
    from world.lisp.primitives import ports
    bad_in = ports.InputPort("abc")
    bad_in.pos = "x"
    bad_out = ports.OutputPort()
    bad_out.chunks = [1]
    calls = [(ports.read_char, bad_in), (ports.read_datum, bad_in), (ports.read_line, bad_in),
             (ports.get_output_string, bad_out), (lambda p: ports.write_char(Char("a"), p), bad_out)]
    for fn, port in calls:
        with pytest.raises(EvalError, match="damaged"):
            fn(port)
