"""Tests for the pygments lexer of the world's Lisp (repl/lexer.py)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from pygments import highlight
from pygments.formatters import TerminalFormatter
from pygments.lexers import load_lexer_from_file
from pygments.token import Token, _TokenType

from repl.lexer import BUILTINS, SPECIAL_FORMS, WorldLispLexer

P = Token.Punctuation
K = Token.Keyword
V = Token.Name.Variable
B = Token.Name.Builtin
F = Token.Name.Function
C = Token.Name.Constant
S = Token.Literal.String
SE = Token.Literal.String.Escape
CH = Token.Literal.String.Char
SY = Token.Literal.String.Symbol
I = Token.Literal.Number.Integer
FL = Token.Literal.Number.Float
N = Token.Literal.Number
OP = Token.Operator
CS = Token.Comment.Single
CM = Token.Comment.Multiline
CD = Token.Comment                     # a `#;` datum comment
U = Token.Comment.Preproc              # an unreadable `#<...>` form

LEXER_PATH = Path(__file__).resolve().parents[2] / "repl" / "lexer.py"


def lex(text: str) -> list[tuple[_TokenType, str]]:
    """The (type, value) pairs of `text`, whitespace left out."""
    return [(t, v) for t, v in WorldLispLexer().get_tokens(text) if v.strip()]


# ---------------------------------------------------------------- token table

CASES: list[tuple[str, list[tuple[_TokenType, str]]]] = [
    # numbers
    ("42 -12 +5 123456789012345678901234567890",
     [(I, "42"), (I, "-12"), (I, "+5"), (I, "123456789012345678901234567890")]),
    ("1/2 -3/4", [(N, "1/2"), (N, "-3/4")]),
    ("1.5 1e10 .5 -2.5e-3 +inf.0 -inf.0 +nan.0",
     [(FL, "1.5"), (FL, "1e10"), (FL, ".5"), (FL, "-2.5e-3"), (FL, "+inf.0"),
      (FL, "-inf.0"), (FL, "+nan.0")]),
    ("(1+ ->x - + ...)",
     [(P, "("), (V, "1+"), (V, "->x"), (B, "-"), (B, "+"), (V, "..."), (P, ")")]),
    # strings and characters
    ('"plain"', [(S, '"plain"')]),
    (r'"a\nb\"c\x41;d"',
     [(S, '"a'), (SE, r"\n"), (S, "b"), (SE, r"\""), (S, "c"), (SE, r"\x41;"),
      (S, 'd"')]),
    ('"two\nlines"', [(S, '"two\nlines"')]),
    (r"#\a #\space #\newline #\x41 #\( #\) #\; #\"",
     [(CH, r"#\a"), (CH, r"#\space"), (CH, r"#\newline"), (CH, r"#\x41"),
      (CH, r"#\("), (CH, r"#\)"), (CH, r"#\;"), (CH, '#\\"')]),
    (r"(list #\a)", [(P, "("), (B, "list"), (CH, r"#\a"), (P, ")")]),
    # booleans, keywords, symbols
    ("#t #f #true #false", [(C, "#t"), (C, "#f"), (C, "#true"), (C, "#false")]),
    ("{:temp -60}", [(P, "{"), (SY, ":temp"), (I, "-60"), (P, "}")]),
    ("[1 x]", [(P, "["), (I, "1"), (V, "x"), (P, "]")]),
    ("|symbol with spaces|", [(V, "|symbol with spaces|")]),
    ("(world/save \"snap\")",
     [(P, "("), (B, "world/save"), (S, '"snap"'), (P, ")")]),
    ("history/log audit/run worldly", [(B, "history/log"), (B, "audit/run"), (V, "worldly")]),
    ("(<= a b)", [(P, "("), (B, "<="), (V, "a"), (V, "b"), (P, ")")]),
    ("(a . b)", [(P, "("), (V, "a"), (P, "."), (V, "b"), (P, ")")]),
    # special forms, and names that only start like one
    ("(if x y)", [(P, "("), (K, "if"), (V, "x"), (V, "y"), (P, ")")]),
    ("(iffy define-thing let*x set!y)",
     [(P, "("), (V, "iffy"), (V, "define-thing"), (V, "let*x"), (V, "set!y"), (P, ")")]),
    ("(extend-eval! 'if f)",
     [(P, "("), (K, "extend-eval!"), (OP, "'"), (SY, "if"), (V, "f"), (P, ")")]),
    ("(cond (else => f))",
     [(P, "("), (K, "cond"), (P, "("), (K, "else"), (K, "=>"), (V, "f"), (P, ")"),
      (P, ")")]),
    ("(letrec* ((a 1)) a)",
     [(P, "("), (K, "letrec*"), (P, "("), (P, "("), (V, "a"), (I, "1"), (P, ")"),
      (P, ")"), (V, "a"), (P, ")")]),
    # definitions name a function
    ('(define (fib n) "Doc." n)',
     [(P, "("), (K, "define"), (P, "("), (F, "fib"), (V, "n"), (P, ")"),
      (S, '"Doc."'), (V, "n"), (P, ")")]),
    ("(define\n  (f) 1)", [(P, "("), (K, "define"), (P, "("), (F, "f"), (P, ")"),
                           (I, "1"), (P, ")")]),
    ("(define x 5)", [(P, "("), (K, "define"), (V, "x"), (I, "5"), (P, ")")]),
    ("(defmacro swap! (a b) a)",
     [(P, "("), (K, "defmacro"), (F, "swap!"), (P, "("), (V, "a"), (V, "b"),
      (P, ")"), (V, "a"), (P, ")")]),
    ("(defnative! (sq x) x)",
     [(P, "("), (K, "defnative!"), (P, "("), (F, "sq"), (V, "x"), (P, ")"),
      (V, "x"), (P, ")")]),
    ("(defnative! sq)", [(P, "("), (K, "defnative!"), (F, "sq"), (P, ")")]),
    # quotation
    ("'foo '|a b| ':k '5 '#t",
     [(OP, "'"), (SY, "foo"), (OP, "'"), (SY, "|a b|"), (OP, "'"), (SY, ":k"),
      (OP, "'"), (I, "5"), (OP, "'"), (C, "#t")]),
    ("'(a b)", [(OP, "'"), (P, "("), (V, "a"), (V, "b"), (P, ")")]),
    ("`(x ,y ,@z)",
     [(OP, "`"), (P, "("), (V, "x"), (OP, ","), (V, "y"), (OP, ",@"), (V, "z"),
      (P, ")")]),
    # comments
    ("x ; the rest (of the line\ny", [(V, "x"), (CS, "; the rest (of the line"), (V, "y")]),
    ("#| flat (comment |# x", [(CM, "#| flat (comment |#"), (V, "x")]),
    ("#| a #| b |# c |# x",
     [(CM, "#|"), (CM, " a "), (CM, "#|"), (CM, " b "), (CM, "|#"), (CM, " c "),
      (CM, "|#"), (V, "x")]),
    ('#;(a (b "c)" #\\)) d) e',
     [(CD, "#;"), (CD, "("), (CD, "a "), (CD, "("), (CD, "b "), (CD, '"c)"'),
      (CD, "#\\)"), (CD, ")"), (CD, " d"), (CD, ")"), (V, "e")]),
    ("#; foo bar", [(CD, "#;"), (CD, "foo"), (V, "bar")]),
    ("#;'(x) y", [(CD, "#;"), (CD, "'"), (CD, "("), (CD, "x"), (CD, ")"), (V, "y")]),
    ("#; #;a b c", [(CD, "#;"), (CD, "#;"), (CD, "a"), (CD, "b"), (V, "c")]),
    # R7RS vectors, bytevectors and prefixed numbers
    ("#(1 #u8(2))", [(P, "#("), (I, "1"), (P, "#u8("), (I, "2"), (P, ")"), (P, ")")]),
    ("#x1F #e#x10", [(Token.Literal.Number, "#x1F"), (Token.Literal.Number, "#e#x10")]),
    # the printer's unreadable forms
    ("#<procedure fib>", [(U, "#<procedure fib>")]),
    ("(#<void>)", [(P, "("), (U, "#<void>"), (P, ")")]),
    ("#<procedure ->x> #<procedure >=>",
     [(U, "#<procedure ->x>"), (U, "#<procedure >=>")]),
    ('#<error "a > b">', [(U, '#<error "a > b">')]),
    ("#<box #<void>> x",
     [(U, "#<"), (U, "box "), (U, "#<"), (U, "void"), (U, ">"), (U, ">"), (V, "x")]),
]


@pytest.mark.parametrize("text, expected", CASES, ids=[c[0] for c in CASES])
def test_tokens(text: str, expected: list[tuple[_TokenType, str]]) -> None:
    assert lex(text) == expected


@pytest.mark.parametrize("name", SPECIAL_FORMS)
def test_special_forms_are_keywords_only_as_whole_names(name: str) -> None:
    assert lex(f"({name}-thing {name} {name}y)") == [
        (P, "("), (V, f"{name}-thing"), (K, name), (V, f"{name}y"), (P, ")")]


@pytest.mark.parametrize("name", BUILTINS)
def test_builtins(name: str) -> None:
    assert lex(f"({name} {name}-x)") == [(P, "("), (B, name), (V, f"{name}-x"), (P, ")")]


# ---------------------------------------------------------------- whole programs

PROGRAM = r"""; fib, the usual way
(define (fib n)
  "The nth Fibonacci number."
  (if (< n 2)
      n
      (+ (fib (- n 1)) (fib (- n 2)))))

#| a block comment #| nested |# that
   spans lines |#
(defmacro unless* (test . body)
  `(if ,test #f (begin ,@body)))

(define config {:temp -60 :name "probe \"7\"\n" :ratio 1/3 :scale 2.5e3})
(define v [1 -2 +3 .5 +inf.0 #\a #\space #\x41 #t #false])
#;(this whole
    (form is "ignored)"))
(world/save "before-edit")
(extend-eval! 'my-if (lambda (x env) (my-eval (cadr x) env)))
(let* ((|odd name| 'sym) (k :kw)) (list |odd name| k))
(check 55 (fib 10))
(with-limit 1000 (history/log))
"""

PROGRAMS = [
    PROGRAM,
    "(define (f x) (* x x))\n(f 3)\n",
    "(let loop ((i 0)) (when (< i 10) (display i) (loop (+ i 1))))",
    "(guard (e (#t (error-object-message e))) (raise 'oops))",
    "(define-record point x y)\n(call/cc (lambda (k) (k 1)))",
    "(goal \"sort a list\" (try (sub (note \"idea\") (done))))",
    "(case x ((1 2) 'low) (else 'high))",
    "(do ((i 0 (+ i 1))) ((= i 3)) (set! n (+ n i)))",
    "(delay (begin (undefine foo) (edit-eval! 'if f) (defrule r1 x) (commit \"m\")))",
    "(inspect :lineages) (show-env)",
    "(quasiquote (a (unquote b) (unquote-splicing c))) (quote x)",
    "#<procedure fib>\n#<void>\n#<primitive car>",
    r'(string-append "tab\there" (symbol->string (quote a)))',
]


def test_round_trip_multiline_program() -> None:
    lexer = WorldLispLexer()
    assert "".join(v for _, v in lexer.get_tokens(PROGRAM)) == PROGRAM
    raw = "\n\n  (a\n b) ; end"           # leading blank lines, no final newline
    exact = WorldLispLexer(stripnl=False, ensurenl=False)
    assert "".join(v for _, v in exact.get_tokens(raw)) == raw


@pytest.mark.parametrize("text", PROGRAMS)
def test_valid_programs_have_no_error_tokens(text: str) -> None:
    errors = [(t, v) for t, v in WorldLispLexer().get_tokens(text) if t in Token.Error]
    assert errors == []


def test_program_highlights_key_tokens() -> None:
    tokens = lex(PROGRAM)
    assert (F, "fib") in tokens and (F, "unless*") in tokens
    assert (B, "world/save") in tokens and (K, "extend-eval!") in tokens
    assert (SY, "my-if") in tokens and (V, "|odd name|") in tokens


def test_invalid_input_shows_an_error_token() -> None:
    assert any(t in Token.Error for t, _ in WorldLispLexer().get_tokens("#tx"))


# ---------------------------------------------------------------- pygments API

def test_highlight_with_terminal_formatter() -> None:
    out = highlight(PROGRAM, WorldLispLexer(), TerminalFormatter())
    assert "\x1b[" in out
    assert re.sub(r"\x1b\[[0-9;]*m", "", out) == PROGRAM


def test_class_attributes() -> None:
    assert WorldLispLexer.name == "World Lisp"
    assert WorldLispLexer.aliases == ["world", "world-lisp"]
    assert WorldLispLexer.filenames == ["*.lisp", "*.wl"]


def test_load_lexer_from_file() -> None:
    lexer = load_lexer_from_file(str(LEXER_PATH), "WorldLispLexer")
    assert lexer.name == "World Lisp"
    assert [v for t, v in lexer.get_tokens("(define x 1)") if t is Token.Keyword] == ["define"]
