"""The Python entry point other modules use to record their own kinds of change."""
from __future__ import annotations

import world
from world.history.record import record
from world.history.views import findings


def test_record_a_new_kind_from_python(image: str) -> None:
    with world.open(image) as w:
        form = world.read("(extend-eval! 'my-eval :while (lambda (x) x))")
        c = w._change(lambda: record(w, "extend-eval", "my-eval", form, "(extend-eval! ...)  ; typed",
                                     "Adds while."), "test: extend")
        assert c.kind == "extend-eval" and c.source == world.write(form)
        assert c.typed == "(extend-eval! ...)  ; typed" and c.doc == "Adds while."
        again = w._change(lambda: record(w, "extend-eval", "my-eval", form), "test: same again")
        assert again is None                                  # identical source: no commit
    with world.open(image) as w:
        hist = w.image.root.history
        assert hist.latest("my-eval").kind == "extend-eval" and findings(w.image.root) == []
        assert hist.latest("my-eval").seq in hist.pending
