"""The R7RS-small conformance table: what a row is, how one runs, and the per-section summary.

A row is `(section, title, source, expected)`. `source` is evaluated in a sandboxed
in-memory world (one per section, so every row brings its own definitions); `expected`
is one of:

- the written form of the value, in the report's syntax (`#(1 2)`, `#u8(1)`, `#\\a`):
  it is read by the world's reader and written back, so `#(1 2)` and `[1 2]` compare
  equal; text the reader cannot read yet is compared as it stands;
- `Raises(kind, text)`: a `LispError` whose kind contains `kind` and whose message
  contains `text`;
- `Absent(instead)`: a feature the sandbox excludes by design (files, the process
  context, the clock); it passes when the error names what to write instead (`instead`)
  or says the feature is unavailable by design;
- `Pending(reason, expected)`: one of the above for a feature not built yet; it runs as a
  non-strict expected failure, so it starts passing the day the feature lands.

The cases themselves live in `r7rs_cases_*.py`, one module per group of the report's sections.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

SECTIONS: dict[str, str] = {
    "2": "Lexical conventions",
    "4.1": "Primitive expressions",
    "4.2": "Derived expressions",
    "4.3": "Macros",
    "5": "Program structure",
    "6.1": "Equivalence predicates",
    "6.2": "Numbers",
    "6.3": "Booleans",
    "6.4": "Pairs and lists",
    "6.5": "Symbols",
    "6.6": "Characters",
    "6.7": "Strings",
    "6.8": "Vectors",
    "6.9": "Bytevectors",
    "6.10": "Control features",
    "6.11": "Exceptions",
    "6.12": "Environments and evaluation",
    "6.13": "Input and output",
    "6.14": "System interface",
}

ROW_STEPS = 500_000     # far above what any row needs; a runaway row stops quickly
UNAVAILABLE = ("by design", "not available", "unavailable", "absent", "not provided",
               "excluded", "sandbox", "immutable")


@dataclass(frozen=True)
class Raises:
    """The row must fail with a `LispError` of this kind whose message holds `text`."""

    kind: str
    text: str = ""


@dataclass(frozen=True)
class Absent:
    """Excluded by design: the error must name `instead` or say it is unavailable."""

    instead: str


@dataclass(frozen=True)
class Pending:
    """`expected` once the feature is built; until then a non-strict expected failure."""

    reason: str
    expected: Any


def unsaid(instead: str) -> Pending:
    """A feature absent by design whose error does not say so yet."""
    return Pending("absent by design; the error does not say so yet", Absent(instead))


Row = tuple[str, str, str, Any]
RESULTS: list[tuple[Row, bool]] = []     # `(row, passed)` of the rows a test run checked


def rows() -> list[Row]:
    """Every row of the table, in the report's order of sections."""
    import r7rs_cases_syntax
    import r7rs_cases_data
    import r7rs_cases_text
    import r7rs_cases_control
    everything = (r7rs_cases_syntax.ROWS + r7rs_cases_data.ROWS + r7rs_cases_text.ROWS
                  + r7rs_cases_control.ROWS)
    order = list(SECTIONS)
    return sorted(everything, key=lambda r: order.index(r[0]))


def expectation(expected: Any) -> Any:
    """The expectation a row is checked against (a pending row's eventual one)."""
    return expected.expected if isinstance(expected, Pending) else expected


def normal(text: str) -> str:
    """`text` read by the world's reader and written back, or as it stands if unreadable."""
    import world
    try:
        return world.write(world.read(text))
    except Exception:   # noqa: BLE001  (a form the reader does not know yet compares as text)
        return text


class Runner:
    """Runs rows, one sandboxed in-memory world per section."""

    def __init__(self) -> None:
        self.worlds: dict[str, Any] = {}

    def world(self, section: str) -> Any:
        """The world rows of `section` run in, opened on first use."""
        import world
        if section not in self.worlds:
            self.worlds[section] = world.open(out=lambda s: None)
        return self.worlds[section]

    def close(self) -> None:
        """Close every world opened."""
        for w in self.worlds.values():
            w.close()
        self.worlds.clear()

    def check(self, row: Row) -> tuple[bool, str]:
        """Whether `row` meets its expectation (a pending one: the eventual one), and why not."""
        import world
        section, _title, source, expected = row
        want = expectation(expected)
        try:
            value = self.world(section).eval(source, steps=ROW_STEPS)
        except world.LispError as e:
            return failed_as(e, want, source)
        except Exception as e:  # noqa: BLE001  (an internal error is a failed row, reported)
            return False, f"internal: {type(e).__name__}: {str(e)[:200]}"
        if isinstance(want, (Raises, Absent)):
            return False, f"expected an error, got {world.write(value)[:200]}"
        try:
            got = world.write(value)
        except Exception as e:  # noqa: BLE001
            return False, f"unwritable value: {type(e).__name__}: {e}"
        return (got == normal(want)), f"expected {want}, got {got[:200]}"


def failed_as(e: Exception, want: Any, source: str = "") -> tuple[bool, str]:
    """Whether the error `e` is the failure `want` asked for; an absent feature's error must
    say more than the names the source used (`unbound variable: file-exists?` names no file)."""
    from world import BudgetExceeded
    message = getattr(e, "message", str(e))
    said = f"{getattr(e, 'kind', type(e).__name__)}: {message[:200]}"
    if isinstance(want, Raises):
        kind = getattr(e, "kind", "")
        # "error" is any error the row's own misuse causes: not a spent budget, nor a name
        # the world lacks (that would pass a row for a missing feature)
        anything = want.kind == "error" and not isinstance(e, BudgetExceeded) and kind != "unbound variable"
        ok = ((want.kind in kind or anything)
              and want.text.lower() in message.lower()
              # a misused form is a syntax error at its line and column
              and (want.kind != "syntax error" or getattr(e, "loc", None) is not None))
        return ok, f"expected {want.kind} containing {want.text!r}, got {said}"
    if isinstance(want, Absent):
        low = str(e).lower()        # the whole line the user sees, a hint appended included
        for name in sorted(set(re.findall(r"\(\s*([^\s()'\"#]+)", source.lower())), key=len, reverse=True):
            low = re.sub(r"(?<![^\s()'\"])" + re.escape(name) + r"(?![^\s()'\":])", " ", low)
        ok = want.instead.lower() in low or any(w in low for w in UNAVAILABLE)
        return ok, f"expected an error naming {want.instead!r} or 'by design', got {said}"
    return False, f"expected {want}, got {said}"


@dataclass
class Tally:
    """One section's counts."""

    section: str
    title: str
    passed: int = 0
    total: int = 0
    pending: int = 0        # rows marked pending (whether or not they pass yet)
    absent: int = 0         # rows for features excluded by design


def tally(results: Iterable[tuple[Row, bool]]) -> list[Tally]:
    """Per-section counts of `(row, passed)` results, in the report's order."""
    table = {s: Tally(s, t) for s, t in SECTIONS.items()}
    for row, ok in results:
        t = table[row[0]]
        t.total += 1
        t.passed += ok
        t.pending += isinstance(row[3], Pending)
        t.absent += isinstance(expectation(row[3]), Absent)
    return [t for t in table.values() if t.total]


def summary_lines(tallies: list[Tally], seconds: float | None = None) -> list[str]:
    """The per-section table as text lines, with the overall figure."""
    lines = [f"{'section':<8}{'title':<30}{'passed':>12}{'pending':>9}{'absent':>8}"]
    for t in tallies:
        lines.append(f"{t.section:<8}{t.title:<30}{f'{t.passed}/{t.total}':>12}"
                     f"{t.pending:>9}{t.absent:>8}")
    passed = sum(t.passed for t in tallies)
    total = sum(t.total for t in tallies)
    pct = 100.0 * passed / total if total else 0.0
    tail = f" in {seconds:.1f} s" if seconds is not None else ""
    lines.append(f"R7RS-small table: {passed}/{total} rows pass ({pct:.1f}%){tail}; "
                 f"absent-by-design rows pass when refused with a hint")
    return lines


def run_all(progress: Callable[[Row, bool, str], None] | None = None
            ) -> tuple[list[tuple[Row, bool, str]], float]:
    """Run every row; the results and the seconds taken."""
    runner = Runner()
    start = time.perf_counter()
    out = []
    try:
        for row in rows():
            ok, why = runner.check(row)
            out.append((row, ok, why))
            if progress:
                progress(row, ok, why)
    finally:
        runner.close()
    return out, time.perf_counter() - start
