"""Print the R7RS table's per-section pass counts after a run that ran its rows."""
from __future__ import annotations

from typing import Any

import r7rs_table


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The per-section summary of the rows this run checked, as bench/r7rs.py prints it."""
    if not r7rs_table.RESULTS:
        return
    terminalreporter.section("R7RS-small conformance table")
    for line in r7rs_table.summary_lines(r7rs_table.tally(r7rs_table.RESULTS)):
        terminalreporter.write_line(line)
