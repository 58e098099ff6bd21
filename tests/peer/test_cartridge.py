"""Cartridges in one process: pausing anywhere and resuming, `cartridge/save`, signatures,
and every way a tampered or hostile cartridge is refused (as one `error:` line)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from repl.cli import main
from world import keys
from world.lisp.budget import Limits
from world.peer import cartridge as C

# Output inside a nested definition, a global changed by set!, a value at the end.
PROGRAM = """\
(define (show-all xs)
  (define (one x) (display x) (display " "))
  (for-each one xs)
  (newline))
(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))
(show-all (list 1 2 3))
(define total 0)
(define (bump! n) (set! total (+ total n)) total)
(bump! (fib 6))
(show-all (map fib '(5 6 7)))
(display "total ") (display (bump! 5)) (newline)
(list total (fib 8))
"""


@pytest.fixture(autouse=True)
def where(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in tmp_path, with keys under it, never the user's own."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WORLD_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path


def cli(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    """`world ARGS` in this process: (status, stdout, stderr)."""
    status = main(list(args))
    got = capsys.readouterr()
    return status, got.out, got.err


def refused(capsys: pytest.CaptureFixture, *args: str, status: int = 1) -> str:
    """`world ARGS` fails with one `error:` line (then at most a Lisp backtrace), no
    Python traceback; return that line."""
    code, out, err = cli(capsys, *args)
    assert code == status, (code, out, err)
    lines = err.splitlines()
    assert lines and lines[0].startswith("error: "), err
    assert all(line.startswith("  in ") or line.startswith("  ...") for line in lines[1:]), err
    assert "Traceback" not in err + out
    return lines[0]


def paused(text: str = PROGRAM, step: int = 40, **how: Any) -> C.Cartridge:
    leg = C.run(text, pause_at=step, **how)
    assert leg.paused is not None
    return leg.paused


def write_doc(path: Path, doc: dict[str, Any]) -> str:
    path.write_text(json.dumps(doc))
    return str(path)


# ---------------------------------------------------------------- pausing and resuming

def test_every_step_resumes_to_the_uninterrupted_result() -> None:
    full = C.run(PROGRAM)
    assert full.output == "1 2 3 \n5 8 13 \ntotal 13\n"
    assert C.run(PROGRAM, pause_at=full.steps + 1).paused is None
    partial_lines = 0
    for step in range(1, full.steps, 2):
        first = paused(step=step)
        # through the file format, as another process would read it
        leg = C.resume(C.loads(first.to_text()))
        assert (first.output + leg.output, leg.value, leg.steps) == \
            (full.output, full.value, full.steps), step
        partial_lines += first.output.endswith(" ")     # paused inside show-all's `one`
    assert partial_lines > 3


def test_pause_again_then_finish() -> None:
    full = C.run(PROGRAM)
    first = paused(step=20)
    second = C.resume(first, pause_at=60)
    assert second.paused is not None and second.paused.step == 60
    third = C.resume(C.loads(second.paused.to_text()))
    assert first.output + second.output + third.output == full.output
    assert (third.value, third.steps) == (full.value, full.steps)
    with pytest.raises(C.CartridgeError, match="after step 20"):
        C.resume(first, pause_at=20)


def test_cartridge_save_inside_a_program(where: Path) -> None:
    text = ('(display "before ")\n(define saved (cartridge/save "here.lispy.json"))\n'
            '(display "after ")\n(list saved (* 6 7))\n')
    full = C.run(text)
    assert full.output == "before after " and (where / "here.lispy.json").exists()
    cart = C.load("here.lispy.json")
    assert cart.output == "before " and cart.key is None
    (where / "here.lispy.json").unlink()
    # The replay passes the call (same value) without writing the file again.
    leg = C.resume(cart)
    assert (leg.output, leg.value, leg.steps) == ("after ", full.value, full.steps)
    assert not (where / "here.lispy.json").exists()


def test_cartridge_save_refusals(where: Path) -> None:
    with pytest.raises(C.CartridgeError, match="ends in .lispy.json"):
        C.run('(cartridge/save "x.json")')
    with pytest.raises(C.CartridgeError, match="cannot write"):
        C.run('(cartridge/save "no/such/dir/x.lispy.json")')
    # a resume must be granted `cartridge` to write a cartridge past the replay
    text = '(display 1)\n(cartridge/save "a.lispy.json")\n(cartridge/save "b.lispy.json")\n'
    first = paused(text, step=1)
    with pytest.raises(C.CartridgeError, match="not granted"):
        C.resume(first)
    assert C.resume(first, caps=["core", "output", "cartridge"]).output == ""
    assert (where / "b.lispy.json").exists()


def test_the_image_cannot_be_saved(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    line = refused(capsys, "eval", "--world", str(tmp_path / "w.fs"),
                   '(cartridge/save "w.lispy.json")')
    assert "only a program run as a cartridge" in line


# ---------------------------------------------------------------- the CLI

def test_cli_run_pause_resume_inspect(where: Path, capsys: pytest.CaptureFixture) -> None:
    (where / "prog.lisp").write_text(PROGRAM)
    code, whole, _ = cli(capsys, "cartridge", "run", "prog.lisp")
    assert code == 0 and whole == "1 2 3 \n5 8 13 \ntotal 13\n(13 21)\n"
    code, out1, err = cli(capsys, "run", "prog.lisp", "--pause-at", "30")
    assert code == 0 and "paused at step 30: wrote prog.lispy.json" in err
    code, out2, err = cli(capsys, "cartridge", "inspect", "prog.lispy.json")
    assert code == 0 and err == ""
    for want in ("world-cartridge/1", "definitions   show-all, fib, total, bump!",
                 "step          30", "signature     none", "capabilities  cartridge, core"):
        assert want in out2, out2
    code, out3, _ = cli(capsys, "cartridge", "resume", "prog.lispy.json")
    assert code == 0 and out1 + out3 == whole
    code, js, _ = cli(capsys, "cartridge", "inspect", "prog.lispy.json", "--json")
    info = json.loads(js)
    assert info["step"] == 30 and info["signature"] == {"status": "none", "key": None}
    assert refused(capsys, "run", "prog.lisp", "--cartridge", "x.lispy.json",
                   status=2).endswith("go with --pause-at N")
    assert "would overwrite prog.lispy.json" in refused(
        capsys, "run", "prog.lispy.json", "--pause-at", "3", status=2)
    assert "ends in .lispy.json" in refused(capsys, "run", "prog.lisp", "--pause-at", "3",
                                            "--cartridge", "prog.json")


# ---------------------------------------------------------------- signatures

def test_signed_cartridges(where: Path, capsys: pytest.CaptureFixture) -> None:
    mine = keys.init()
    (where / "prog.lisp").write_text(PROGRAM)
    code, _, err = cli(capsys, "run", "prog.lisp", "--pause-at", "25", "--sign")
    assert code == 0 and "(signed)" in err
    cart = C.load("prog.lispy.json")
    assert (cart.key, cart.status()) == (mine, "valid")
    code, out, _ = cli(capsys, "cartridge", "resume", "prog.lispy.json", "--require-signed", mine)
    assert code == 0 and out.endswith("(13 21)\n")
    assert f"signature     valid, key {mine}" in cli(capsys, "cartridge", "inspect",
                                                        "prog.lispy.json")[1]
    # The program changed after signing: refused, though inspect still shows it.
    doc = json.loads((where / "prog.lispy.json").read_text())
    doc["program"] = doc["program"].replace("(fib 8)", "(fib 9)")
    write_doc(where / "changed.lispy.json", doc)
    assert "signature does not verify" in refused(capsys, "cartridge", "resume",
                                                  "changed.lispy.json")
    assert "signature     invalid" in cli(capsys, "cartridge", "inspect", "changed.lispy.json")[1]
    # Limits raised after signing: refused too.
    doc = json.loads((where / "prog.lispy.json").read_text())
    doc["limits"]["steps"] *= 10
    write_doc(where / "raised.lispy.json", doc)
    assert "signature does not verify" in refused(capsys, "cartridge", "resume",
                                                  "raised.lispy.json")
    # --require-signed: an unsigned cartridge, or another key's.
    C.run(PROGRAM, pause_at=5).paused.write("plain.lispy.json")
    assert "is not signed" in refused(capsys, "cartridge", "resume", "plain.lispy.json",
                                      "--require-signed", mine)
    assert "not by 0000000000000000" in refused(capsys, "cartridge", "resume", "prog.lispy.json",
                                                "--require-signed", "0" * 64)
    assert "64 hex digits" in refused(capsys, "cartridge", "resume", "prog.lispy.json",
                                      "--require-signed", "bob", status=2)
    # `cartridge sign` signs an unsigned one in place.
    code, out, _ = cli(capsys, "cartridge", "sign", "plain.lispy.json")
    assert code == 0 and C.load("plain.lispy.json").status() == "valid"


# ---------------------------------------------------------------- hostile cartridges

def test_grants_are_the_intersection_and_limits_the_narrower(where: Path,
                                                           capsys: pytest.CaptureFixture) -> None:
    text = '(define (spin n) (if (= n 0) (quote done) (spin (- n 1))))\n(spin 3)\n(spin 100000)\n'
    doc = json.loads(paused(text, step=3).to_text())
    doc["capabilities"] += ["host", "image", "eval", "reflect"]
    doc["limits"]["steps"] = 10 ** 15
    doc["limits"]["seconds"] = 10 ** 9
    write_doc(where / "greedy.lispy.json", doc)
    cart = C.load("greedy.lispy.json")
    env_line = refused(capsys, "cartridge", "resume", "greedy.lispy.json", "--steps", "5000")
    assert "step budget of 5000 exhausted" in env_line
    # asking for host is not enough: the resumer grants core and output unless told more
    doc["program"] = '(world/info)\n'
    doc["step"] = 0
    write_doc(where / "host.lispy.json", doc)
    assert "world/info is in the group host: this resume does not grant it" in \
        refused(capsys, "cartridge", "resume", "host.lispy.json")
    # and a resumer's grant of host does not reach a cartridge that never had it
    plain = json.loads(paused(text, step=3).to_text())
    plain["program"] = '(world/info)\n'
    plain["step"] = 0
    write_doc(where / "nohost.lispy.json", plain)
    assert "the cartridge was never granted it" in refused(
        capsys, "cartridge", "resume", "nohost.lispy.json", "--caps", "core,output,host")
    (where / "reflect.lisp").write_text("(display 1)\n(inspect 1)\n")
    assert "inspect is in the group reflect: a cartridge program is granted only" in \
        refused(capsys, "cartridge", "run", "reflect.lisp")
    assert cart.susp.limits.steps == 10 ** 15       # the document's claim, never granted


def test_python_in_strings_runs_nothing(where: Path, capsys: pytest.CaptureFixture) -> None:
    evil = "__import__('os').system('touch pwned')"
    doc = json.loads(paused(PROGRAM, step=3).to_text())
    doc["program"] = f'(define x "{evil}")\n(display x)\n(exec "{evil}")\n'
    doc["step"] = 1
    doc["output"] = ""
    doc["environment"]["globals"] = [{"name": "'); " + evil + " #", "value": {"datum": evil}}]
    doc["environment"]["objects"] = [{"procedure": {"name": "f", "self": False, "captured": [],
                                                    "source": f"(lambda () {evil})"}}]
    write_doc(where / "evil.lispy.json", doc)
    assert "read error" in refused(capsys, "cartridge", "resume", "evil.lispy.json")
    doc["environment"]["objects"][0]["procedure"]["source"] = f'(lambda () (system "{evil}"))'
    write_doc(where / "evil.lispy.json", doc)
    assert "exec" in refused(capsys, "cartridge", "resume", "evil.lispy.json")
    assert not (where / "pwned").exists()


def test_class_keys_and_unknown_fields(where: Path, capsys: pytest.CaptureFixture) -> None:
    good = json.loads(paused().to_text())
    cases = {
        "class-top": (dict(good, __class__="os.system"), "unknown field '__class__'"),
        "class-value": (dict(good, environment=dict(good["environment"], globals=[
            {"name": "x", "value": {"__class__": "subprocess.Popen"}}])), "not a value"),
        "no-format": ({k: v for k, v in good.items() if k != "format"}, "not a world-cartridge/1"),
        "old-format": (dict(good, format="world-suspension/1"), "not 'world-cartridge/1'"),
        "missing": ({k: v for k, v in good.items() if k != "step"}, "missing field 'step'"),
        "step-type": (dict(good, step="40"), "step is not a count"),
        "step-negative": (dict(good, step=-1), "step is not a count"),
        "caps-type": (dict(good, capabilities="core"), "capabilities is not a list"),
        "caps-unknown": (dict(good, capabilities=["core", "root"]), "unknown capability root"),
        "caps-internal": (dict(good, capabilities=["internal"]), "internal"),
        "limit-unknown": (dict(good, limits={"steps": 5, "cpu": 9}), "unknown limit 'cpu'"),
        "limit-type": (dict(good, limits={"steps": "many"}), "limit steps is not a number"),
        "output-type": (dict(good, output=7), "output is not a string"),
        "box-later": (dict(good, environment=dict(good["environment"], objects=[
            {"procedure": {"name": "f", "self": False, "source": "(lambda () c)", "captured": [
                {"var": "c", "boxed": True, "value": {"ref": 1}}]}}, True])),
                      "boxed but holds no box"),
        "signature-shape": (dict(good, signature="yes"), "signature is not"),
        "signature-bad": (dict(good, signature={"key": "a" * 64, "sig": "b" * 128}),
                          "signature does not verify"),
    }
    for name, (doc, want) in cases.items():
        path = write_doc(where / f"{name}.lispy.json", doc)
        line = refused(capsys, "cartridge", "resume", path)
        assert want in line, (name, line)


def test_malformed_files(where: Path, capsys: pytest.CaptureFixture,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    good = paused().to_text()
    files = {
        "notjson": ("{not json", "not JSON"),
        "array": ("[1, 2]", "not a world-cartridge/1 document"),
        "deep": ("[" * 200_000 + "]" * 200_000, "not JSON"),
        "dupkey": (good.replace('"step": 40', '"step": 40, "step": 41'), "duplicate key"),
        "nan": (good.replace('"step": 40', '"step": NaN'), "NaN is not allowed"),
        "bigint": (good.replace('"step": 40', '"step": ' + "9" * 5000), "number too large"),
        "binary": (b"\xff\xfe{}", "not UTF-8"),
    }
    for name, (data, want) in files.items():
        path = where / f"{name}.lispy.json"
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
        assert want in refused(capsys, "cartridge", "resume", str(path)), name
        assert want in refused(capsys, "cartridge", "inspect", str(path)), name
    monkeypatch.setattr(C, "MAX_BYTES", len(good) - 1)
    (where / "huge.lispy.json").write_text(good)
    assert f"longer than {len(good) - 1} bytes" in refused(capsys, "cartridge", "resume", "huge.lispy.json")
    assert "cannot read" in refused(capsys, "cartridge", "resume", "absent.lispy.json")
    assert "cannot read" in refused(capsys, "cartridge", "inspect", str(where))


def test_steps_and_output_that_do_not_match_the_program(where: Path,
                                                        capsys: pytest.CaptureFixture) -> None:
    good = json.loads(paused().to_text())
    write_doc(where / "beyond.lispy.json", dict(good, step=10 ** 6))
    assert "before its pause at step 1000000" in refused(capsys, "cartridge", "resume",
                                                         "beyond.lispy.json")
    write_doc(where / "output.lispy.json", dict(good, output="forged " + good["output"]))
    assert "does not deliver the cartridge's output" in refused(capsys, "cartridge", "resume",
                                                                "output.lispy.json")
    write_doc(where / "unread.lispy.json", dict(good, program="(display 1"))
    refused(capsys, "cartridge", "resume", "unread.lispy.json")
    assert "after the cartridge's step 40" in refused(capsys, "cartridge", "resume",
                                                      str(where / "output.lispy.json"),
                                                      "--pause-at", "3", status=2)
    assert "--caps" in refused(capsys, "cartridge", "resume", str(where / "beyond.lispy.json"),
                               "--caps", "core,root", status=2)


def test_writing_is_atomic_and_named(where: Path) -> None:
    cart = paused()
    with pytest.raises(C.CartridgeError, match="ends in .lispy.json"):
        cart.write("out.json")
    assert cart.write("out.lispy.json") == "out.lispy.json"
    assert sorted(p.name for p in where.iterdir()) == ["out.lispy.json"]   # no temporary left
    assert C.load("out.lispy.json").to_text() == cart.to_text()
    assert isinstance(cart.susp.limits, Limits)
