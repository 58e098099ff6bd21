"""examples/mars.lisp, the Mars-colony frame, runs unchanged under `simulate`."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import world

MARS = Path(__file__).resolve().parents[2] / "examples" / "mars.lisp"


def test_world_run_prints_seven_sols() -> None:
    p = subprocess.run([sys.executable, "-m", "repl.cli", "run", "--memory", str(MARS)],
                       capture_output=True, text=True, timeout=60, cwd=MARS.parents[1])
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert [ln.split(":")[0] for ln in lines] == [f"sol {i}" for i in range(1, 8)]
    assert lines[1].startswith("sol 2: :dust-storm temperature ")
    assert p.stderr == ""


def test_the_colony_state_after_the_run() -> None:
    w = world.open(out=lambda text: None)
    state = w.eval(MARS.read_text(encoding="utf-8"), source=str(MARS))
    get = lambda k: state.get(world.read(":" + k))      # noqa: E731
    assert get("sol") == 7
    assert world.write(get("events")) == "(:meteor :harvest :supply-drop :solar-flare :dust-storm :dust-storm :quiet)"
    assert 0 < get("crew") <= 6 and 0 <= get("power") <= 100 and get("oxygen") >= 0 and get("food") >= 0
    colony = w.eval("colony")
    assert world.write(colony.get(world.read(":name"))) == '"mars"'
    assert world.write(colony.get(world.read(":depth"))) == "1"
    # the frame ran in a child granted core, output and simulate, not the owner's grant
    assert world.write(w.eval("(get (simulate :initial-state 0 :frame (lambda (s x) (capabilities)) "
                              ":inputs '(1)) :state)")) == "(:core :output :simulate)"


def test_a_cartridge_paused_inside_the_simulation_resumes_to_the_same_run() -> None:
    from world.peer import cartridge
    text = MARS.read_text(encoding="utf-8")
    whole = cartridge.run(text)
    for at in (whole.steps // 3, whole.steps // 2, whole.steps - 50):    # inside the frames
        first = cartridge.run(text, pause_at=at)
        assert first.paused is not None
        cart = cartridge.loads(first.paused.to_text())
        rest = cartridge.resume(cart, caps=("core", "output", "simulate"))
        assert first.output + rest.output == whole.output
        assert world.write(rest.value) == world.write(whole.value)
