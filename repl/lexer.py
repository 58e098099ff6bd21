"""A pygments lexer for the world's Lisp: source files and printed values.

Self-contained (it imports only pygments), so it can also be loaded with
`pygments.lexers.load_lexer_from_file("repl/lexer.py", "WorldLispLexer")`.
"""
from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups, default, words
from pygments.token import (Comment, Keyword, Name, Number, Operator,
                            Punctuation, String, Whitespace)

__all__ = ["WorldLispLexer", "SPECIAL_FORMS", "BUILTINS"]


# ---------------------------------------------------------------- vocabulary

SPECIAL_FORMS = (
    "quote", "quasiquote", "unquote", "unquote-splicing", "lambda", "define",
    "set!", "if", "cond", "case", "and", "or", "when", "unless", "begin",
    "let", "let*", "letrec", "letrec*", "do", "defmacro", "call/cc", "guard",
    "define-record", "delay", "else", "=>",
    # the world's own forms
    "defrule", "undefine", "extend-eval!", "edit-eval!", "defnative!", "goal",
    "sub", "try", "check", "note", "done", "show-env", "with-limit", "commit",
    "inspect",
)

BUILTINS = (
    "car", "cdr", "cons", "list", "map", "filter", "reduce", "apply",
    "for-each", "append", "reverse", "length", "list-ref", "list-tail",
    "caar", "cadr", "cdar", "cddr", "caddr", "first", "rest", "second",
    "last", "nth", "range", "member", "memq", "assq", "assv", "sort",
    "+", "-", "*", "/", "=", "<", ">", "<=", ">=", "not", "abs", "min", "max",
    "quotient", "remainder", "modulo", "expt", "sqrt", "floor", "ceiling",
    "round", "truncate", "exact", "inexact", "number->string",
    "string->number", "eq?", "eqv?", "equal?", "null?", "pair?", "list?",
    "number?", "integer?", "string?", "symbol?", "keyword?", "char?",
    "boolean?", "procedure?", "vector?", "map?", "zero?", "positive?",
    "negative?", "even?", "odd?", "string-append", "string-length",
    "substring", "string-ref", "string->symbol", "symbol->string",
    "string->list", "list->string", "vector", "vector-ref", "vector-length",
    "get", "assoc", "dissoc", "keys", "vals", "contains?", "hash-map",
    "box", "unbox", "set-box!", "display", "newline", "write", "print",
    "error", "raise", "error-object-message", "error-object-irritants",
    "read", "eval", "gensym", "void", "values", "force", "my-eval",
)


# ---------------------------------------------------------------- regex parts

DELIMS = r"\s()\[\]{}\"';`,"                     # end a symbol or number
END = r"(?=[%s]|$)" % DELIMS
SYMBOL = r"[^%s|#][^%s]*" % (DELIMS, DELIMS)
PIPED = r"\|(?:\\.|[^|\\])*\|"
STRING = r'"(?:\\.|[^"\\])*"'
CHAR = r"#\\(?s:.)[^%s]*" % DELIMS
FLOAT = (r"[+-]?(?:\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?"
         r"|\d+[eE][+-]?\d+)|[+-](?:inf|nan)\.0")
RATIONAL = r"[+-]?\d+/\d+"
INTEGER = r"[+-]?\d+"
NUMBER = r"(?:%s|%s|%s)%s" % (FLOAT, RATIONAL, INTEGER, END)
# `#<procedure ->x>`: a `>` followed by a symbol character is part of a name.
UNREADABLE = (r'#<(?:[^#>"]|#(?!<)|>(?=[^%s>])|%s)*>'
              % (DELIMS, STRING))
BLOCK = r"#\|(?:[^|#]|\|(?!#)|#(?!\|))*\|#"      # one without nesting


class WorldLispLexer(RegexLexer):
    """Highlight the world's Lisp: Scheme with keywords, vectors and maps."""

    name = "World Lisp"
    aliases = ["world", "world-lisp"]
    filenames = ["*.lisp", "*.wl"]
    mimetypes = ["text/x-world-lisp"]

    tokens = {
        "root": [
            (r"\s+", Whitespace),
            (r";[^\n]*", Comment.Single),
            (BLOCK, Comment.Multiline),
            (r"#\|", Comment.Multiline, "block-comment"),
            (r"#;", Comment, "datum-comment"),
            (UNREADABLE, Comment.Preproc),
            (r"#<", Comment.Preproc, "unreadable"),
            (CHAR, String.Char),
            (r"#(?:true|false|t|f)" + END, Name.Constant),
            (r"#(?:[uU]8)?\(", Punctuation),                 # R7RS #(vector) and #u8(bytes)
            (r"(?:#[eEiIxXbBoOdD]){1,2}[^%s]+" % DELIMS, Number),   # #x1F, #e1.5, #e#x10
            (r"(?:%s)%s" % (FLOAT, END), Number.Float),
            (RATIONAL + END, Number),
            (INTEGER + END, Number.Integer),
            (r'"[^"\\]*"', String),
            (r'"[^"\\]*', String, "string"),
            (r":[^%s]+" % DELIMS, String.Symbol),
            (r"['`]", Operator, "quoted"),
            (r",@?", Operator),
            (PIPED, Name.Variable),
            # the name being defined: (define (f ...  (defmacro m ...
            (r"(\()(\s*)(define)(\s*)(\()(\s*)(%s)" % SYMBOL,
             bygroups(Punctuation, Whitespace, Keyword, Whitespace,
                      Punctuation, Whitespace, Name.Function)),
            (r"(\()(\s*)(defmacro|defnative!)(\s+|(?=\())(\(?)(\s*)(%s)" % SYMBOL,
             bygroups(Punctuation, Whitespace, Keyword, Whitespace,
                      Punctuation, Whitespace, Name.Function)),
            (words(SPECIAL_FORMS, suffix=END), Keyword),
            (words(BUILTINS, suffix=END), Name.Builtin),
            (r"(?:world|history|audit)/[^%s]*" % DELIMS, Name.Builtin),
            (r"\." + END, Punctuation),
            (r"[()\[\]{}]", Punctuation),
            (SYMBOL, Name.Variable),
        ],
        "string": [
            (r"\\x[0-9a-fA-F]+;", String.Escape),
            (r"\\[ \t]*\n[ \t]*", String.Escape),      # line continuation
            (r"\\(?s:.)", String.Escape),
            (r'[^"\\]*"', String, "#pop"),
            (r'[^"\\]+', String),
        ],
        "quoted": [
            (r"(?!%s)%s" % (NUMBER, SYMBOL), String.Symbol, "#pop"),
            (PIPED, String.Symbol, "#pop"),
            default("#pop"),
        ],
        "block-comment": [
            (r"#\|", Comment.Multiline, "#push"),
            (r"\|#", Comment.Multiline, "#pop"),
            (r"[^|#]+|[|#]", Comment.Multiline),
        ],
        "unreadable": [
            (r"#<", Comment.Preproc, "#push"),
            (r">(?![^%s>])" % DELIMS, Comment.Preproc, "#pop"),
            (r'%s|[^#>"]+|[#>"]' % STRING, Comment.Preproc),
        ],
        # `#;` comments out the next datum, however many lines it spans.
        "datum-comment": [
            (r"\s+", Whitespace),
            (r";[^\n]*", Comment.Single),
            (BLOCK, Comment.Multiline),
            (r"#\|", Comment.Multiline, "block-comment"),
            (r"#;", Comment, "#push"),              # `#; #;a b` skips two
            (r"['`]|,@?", Comment),
            (r"[(\[{]", Comment, ("#pop", "commented")),
            (r"%s|%s|%s|[^%s]+" % (STRING, CHAR, PIPED, DELIMS), Comment, "#pop"),
            default("#pop"),
        ],
        "commented": [
            (r"[(\[{]", Comment, "#push"),
            (r"[)\]}]", Comment, "#pop"),
            (r"#\|", Comment.Multiline, "block-comment"),
            (r"%s|%s|%s|;[^\n]*" % (STRING, CHAR, PIPED), Comment),
            (r'[^()\[\]{}"#;|]+|[#;|"]', Comment),
        ],
    }
