"""Two sessions on one world (a real ZEO server): both define, the chain stays whole."""
from __future__ import annotations

import threading


import world
from world.history.views import findings


def test_two_sessions_defining_at_once_keep_one_verified_chain(zeo: str) -> None:
    a, b = world.open(zeo=zeo), world.open(zeo=zeo)
    errors: list[BaseException] = []

    def define(w: world.World, me: str) -> None:
        try:
            for i in range(25):
                w.eval(f"(define ({me}{i} x) (+ x {i}))")
        except BaseException as e:       # reported below
            errors.append(e)

    threads = [threading.Thread(target=define, args=(w, me)) for w, me in ((a, "a"), (b, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    a.close()
    b.close()
    assert not errors
    with world.open(zeo=zeo) as w:
        hist = w.image.root.history
        assert findings(w.image.root) == []
        names = [c.symbol for c in hist.atomic() if c.kind == "define"]
        assert sorted(names) == sorted(f"{x}{i}" for x in "ab" for i in range(25))
        assert [c.seq for c in hist.atomic()] == list(range(1, hist.count + 1))
        assert w.eval("(b24 1)") == 25
