"""R7RS mutators the world refuses, each with an error that says what to write instead.

Pairs, vectors, strings and bytevectors are immutable values here: they are
shared by value (a literal in compiled code, a map key, a definition's value
that history fingerprints by content, a form stored as canonical text), so
changing one in place would change every holder behind its back. The
functional updates (`vector-set`, `assoc`, `substring`...) return new values;
a program that needs a changing cell uses a box or a record, which are
persistent and tracked.
"""
from __future__ import annotations

from typing import Any

from ..errors import EvalError
from . import primitive

INSTEAD = {
    "set-car!": "pairs are immutable in this world; build a new pair: (cons x (cdr p)), "
                "or keep changing state in a box: (set-box! b x)",
    "set-cdr!": "pairs are immutable in this world; build a new pair: (cons (car p) x), "
                "or keep changing state in a box: (set-box! b x)",
    "list-set!": "lists are immutable in this world; build a new one: "
                 "(map (lambda (x i) (if (= i k) new x)) lst (iota (length lst)))",
    "vector-set!": "vectors are immutable in this world; (vector-set v k x) returns a new vector: "
                   "(set! v (vector-set v k x)), or hold it in a box: (set-box! b (vector-set (unbox b) k x))",
    "vector-fill!": "vectors are immutable in this world; (make-vector (vector-length v) x) "
                    "makes a filled one: (set! v (make-vector (vector-length v) x))",
    "vector-copy!": "vectors are immutable in this world; build the result: "
                    "(vector-append (vector-copy to 0 at) from (vector-copy to (+ at (vector-length from))))",
    "string-set!": "strings are immutable in this world; build a new string: "
                   "(string-append (substring s 0 k) (string c) (substring s (+ k 1)))",
    "string-fill!": "strings are immutable in this world; (make-string (string-length s) c) "
                    "makes a filled one",
    "string-copy!": "strings are immutable in this world; build the result: (string-append "
                    "(substring to 0 at) from (substring to (+ at (string-length from))))",
    "bytevector-u8-set!": "bytevectors are immutable in this world; (bytevector-u8-set bv k byte) "
                          "returns a new bytevector: (set! bv (bytevector-u8-set bv k byte))",
    "bytevector-copy!": "bytevectors are immutable in this world; build the result: (bytevector-append "
                        "(bytevector-copy to 0 at) from (bytevector-copy to (+ at (bytevector-length from))))",
}


def _refuse(name: str) -> None:
    def refused(*args: Any) -> Any:
        raise EvalError(f"{name}: {INSTEAD[name]}")
    refused.__name__ = "refused_" + name.replace("-", "_").replace("!", "")
    refused.__doc__ = f"({name} ...) is refused: {INSTEAD[name]}."
    primitive(name)(refused)


for _name in INSTEAD:
    _refuse(_name)
