"""`world agent run` and `world agent show` as real processes on one image file."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COUNTER = str(ROOT / "examples" / "counter.lispy")
NOTES = str(ROOT / "examples" / "notes.lispy")


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """`world ARGS` in `tmp_path`, on the image w.fs there."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("WORLD_IMAGE", None)
    return subprocess.run([sys.executable, "-m", "repl.cli", *args, "--world",
                           str(tmp_path / "w.fs")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


def one_error(proc: subprocess.CompletedProcess, status: int = 1) -> str:
    """The single `error:` line of a failed process (no traceback)."""
    assert proc.returncode == status, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and proc.stderr.startswith("error: "), proc.stderr
    return lines[0]


def test_state_persists_across_processes_and_state_file_replaces_it(tmp_path: Path) -> None:
    first = cli(tmp_path, "agent", "run", COUNTER, "--input", "5")
    assert (first.returncode, first.stdout) == (0, "{:count 1 :total 5}\n"), first.stderr
    second = cli(tmp_path, "agent", "run", COUNTER, "--input", "2")
    assert second.stdout == "{:count 2 :total 7}\n", second.stderr
    failed = cli(tmp_path, "agent", "run", COUNTER, "--input", '"x"')
    line = one_error(failed)
    assert "counter.lispy:17:7:" in line and "the input must be a number" in line
    (tmp_path / "s.txt").write_text("{:count 10 :total 100}\n")
    replaced = cli(tmp_path, "agent", "run", COUNTER, "--input", "1", "--state", "s.txt")
    assert replaced.stdout == "{:count 11 :total 101}\n", replaced.stderr
    (tmp_path / "bad.txt").write_text("{:count 10\n")
    assert one_error(cli(tmp_path, "agent", "run", COUNTER, "--input", "1", "--state", "bad.txt")) \
        == "error: bad.txt:1:1: agent: the state file does not read: incomplete input: unclosed {"
    shown = cli(tmp_path, "agent", "show", "counter")
    assert shown.returncode == 0, shown.stderr
    assert "state: {:count 11 :total 101}" in shown.stdout
    assert "runs: 4" in shown.stdout and "failed: " in shown.stdout


def test_output_needs_both_the_agent_and_the_caller(tmp_path: Path) -> None:
    line = one_error(cli(tmp_path, "agent", "run", NOTES, "--input", '"buy milk"'))
    assert "notes.lispy:31:10: sandbox: display needs the :output capability" in line
    ok = cli(tmp_path, "agent", "run", NOTES, "--input", '"buy milk"', "--caps", "core,output")
    assert ok.stdout == 'noted: buy milk\n{:notes ("buy milk") :words 2}\n', ok.stderr
    assert "error: --caps: an agent may be allowed only core, output, simulate, not host" in \
        one_error(cli(tmp_path, "agent", "run", NOTES, "--input", "1", "--caps", "core,host"), 2)


def test_serve_refuses_a_file_that_cannot_run_before_listening(tmp_path: Path) -> None:
    (tmp_path / "h.lispy").write_text('(define AGENT {:name "h" :version "1" :caps [:core] '
                                      ':description ""})\n(define (run s) s)\n')
    line = one_error(cli(tmp_path, "agent", "serve", "h.lispy", "--address", "127.0.0.1:0"))
    assert line == "error: h.lispy:2:1: agent: run takes 1 argument; it must take 2: (run state input)"
