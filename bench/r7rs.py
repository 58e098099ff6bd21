"""The R7RS-small conformance table's pass counts per report section.

    python bench/r7rs.py            # the table, then the overall figure
    python bench/r7rs.py --json     # the same as JSON
    python bench/r7rs.py --failures # also every row that does not pass, and why

The rows live in tests/r7rs/ (r7rs_cases_*.py); `python -m pytest tests/r7rs` runs them
as tests and prints the same summary.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "r7rs"))
sys.path.insert(0, os.path.join(HERE, ".."))

import r7rs_table  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Run the table and print its per-section counts."""
    parser = argparse.ArgumentParser(description="R7RS-small conformance table, per section")
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")
    parser.add_argument("--failures", action="store_true", help="list the rows that do not pass")
    args = parser.parse_args(argv)
    results, seconds = r7rs_table.run_all()
    tallies = r7rs_table.tally((row, ok) for row, ok, _ in results)
    if args.json:
        passed = sum(t.passed for t in tallies)
        total = sum(t.total for t in tallies)
        print(json.dumps({
            "sections": [vars(t) for t in tallies],
            "passed": passed, "total": total,
            "percent": round(100.0 * passed / total, 1) if total else 0.0,
            "seconds": round(seconds, 2),
        }, indent=2))
        return 0
    for line in r7rs_table.summary_lines(tallies, seconds):
        print(line)
    if args.failures:
        for (section, title, _source, expected), ok, why in results:
            if not ok:
                mark = " (pending)" if isinstance(expected, r7rs_table.Pending) else ""
                print(f"{section:<6}{title}{mark}: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
