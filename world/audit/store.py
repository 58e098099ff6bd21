"""The audit objects of a world: its rules and its recorded checks.

A `Rule` is a definition made by `defrule`: a predicate over a definition's
metrics, with a category, a severity and a message. A `Check` is an example
recorded by `(check expected expr)`: the two forms as canonical text and the
definitions `expr` exercises. Both live in the `AuditStore` in the world
root; a production image has none.
"""
from __future__ import annotations

import time
from typing import Any

from BTrees.IOBTree import IOBTree
from BTrees.OOBTree import OOBTree

from ..objects.format import Versioned


class Rule(Versioned):
    """An audit rule: `when` is a Lisp procedure of the metrics map."""

    format_version = 1
    name = ""
    category = "maintainability"
    severity = "warning"
    message = ""
    when: Any = None

    def __init__(self, name: str, category: str, severity: str, when: Any, message: str) -> None:
        self.name, self.category, self.severity = name, category, severity
        self.when, self.message = when, message

    def __repr__(self) -> str:
        return f"<Rule {self.name} {self.category}/{self.severity}>"


class Check(Versioned):
    """A recorded example: `expr` should evaluate to what `expected` does."""

    format_version = 1
    number = 0
    expected = ""
    expr = ""
    names: tuple[str, ...] = ()
    time = 0.0

    def __init__(self, number: int, expected: str, expr: str, names: tuple[str, ...]) -> None:
        self.number, self.expected, self.expr, self.names = number, expected, expr, tuple(names)
        self.time = time.time()

    def __repr__(self) -> str:
        return f"<Check {self.number} {self.expr} => {self.expected}>"


class AuditStore(Versioned):
    """Rules by name, checks by number, and check numbers by definition."""

    format_version = 1
    checks_count = 0

    def __init__(self) -> None:
        self.rules = OOBTree()            # name -> Rule
        self.checks = IOBTree()           # number -> Check
        self.by_definition = OOBTree()    # definition name -> tuple of check numbers
        self.by_text = OOBTree()          # (expected, expr) -> check number

    def add_check(self, expected: str, expr: str, names: tuple[str, ...]) -> Check:
        """Record a check (again: the same example replaces its older record)."""
        old = self.by_text.get((expected, expr))
        if old is not None:
            self._unindex(self.checks[old])
        number = self.checks_count + 1
        self.checks_count = number
        c = self.checks[number] = Check(number, expected, expr, names)
        self.by_text[(expected, expr)] = number
        for n in names:
            self.by_definition[n] = self.by_definition.get(n, ()) + (number,)
        return c

    def against(self, names: Any) -> list[Check]:
        """The checks recorded against any of `names`, in order."""
        nums = {n for name in names for n in self.by_definition.get(name, ())}
        return [self.checks[n] for n in sorted(nums) if n in self.checks]

    def remove_against(self, name: str) -> int:
        """Forget every check recorded against `name`; return how many."""
        gone = self.against((name,))
        for c in gone:
            self._unindex(c)
            if self.by_text.get((c.expected, c.expr)) == c.number:
                del self.by_text[(c.expected, c.expr)]
        return len(gone)

    def _unindex(self, c: Check) -> None:
        del self.checks[c.number]
        for n in c.names:
            left = tuple(x for x in self.by_definition.get(n, ()) if x != c.number)
            if left:
                self.by_definition[n] = left
            else:
                self.by_definition.pop(n, None)
