"""Applying hot-fixes and inspecting production in-process (world/hotfix/apply.py,
inspect_view.py, hotlog.py), for the refusals a channel test does not reach cheaply."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

import world
from world.history import views
from world.hotfix import apply as A, hotlog, protocol
from world.hotfix.inspect_view import InspectRefused, inspect
from world.hotfix.prod import report_of
from world.lisp.errors import LispError, MessageError
from world.lisp.reader import read
from world.lisp.types import Keyword, LispMap

HUB = protocol.ephemeral_signer()
HUB_KEY = HUB(b"")[0]


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Any, Any, str]]:
    """A development world, the production image built from it (open), and its head."""
    dev = world.open(str(tmp_path / "dev.fs"))
    dev.eval('(define (f x) "Scale." (/ 10 x))')
    dev.eval('(define (main) "Run." (f 0))')
    dev.eval('(commit "first")')
    dev.eval(f'(world/build-prod "{tmp_path / "prod.fs"}")')
    prod = world.open(str(tmp_path / "prod.fs"))
    try:
        yield dev, prod, dev.image.root.history.head
    finally:
        prod.close()
        dev.close()


def apply_frame(seq: int, base: str, commits: tuple, checks: tuple = (),
                signer: Any = HUB) -> protocol.Frame:
    return protocol.parse(protocol.frame(signer, "apply", seq, id=seq, base=base,
                                         commits=commits, checks=checks))


def forge(parent: str, **change: Any) -> LispMap:
    """A commit map with `change`d fields whose hash recomputes."""
    fields = {"seq": 99, "kind": "define", "symbol": "f", "typed": change.get("source", ""),
              "doc": None, "time": "1.0", "violations": [], **change}
    h = protocol.commit_hash(parent, fields)
    pairs = [(Keyword("hash"), h), (Keyword("parent"), parent)]
    pairs += [(Keyword(k), tuple(v) if k == "violations" else v)
              for k, v in fields.items() if v is not None]
    return LispMap(pairs)


def test_a_fix_that_changes_a_name_no_commit_names_is_refused(pair) -> None:
    dev, prod, head = pair
    dev.eval('(define (f x) "Scale." (if (= x 0) 0 (/ 10 x)))')
    good = dev.image.root.history.latest("f")
    source = '(begin (define (f x) "Scale." (if (= x 0) 0 (/ 10 x))) (define (main) 7))'
    sneaky = forge(head, source=source, state=good.state)
    with pytest.raises(A.HotfixRefused) as e:
        A.apply(prod, apply_frame(1, head, (sneaky,)), HUB_KEY)
    print(e.value.message)
    assert "also changed main, which no commit names" in e.value.message
    with pytest.raises(LispError, match="division by zero"):
        prod.eval("(main)")                             # the old f and main are live
    assert [e.outcome.split(":")[0] for e in hotlog.entries(prod.image.root.settings)] == ["refused"]


def test_only_the_welcomed_and_trusted_hub_may_apply(pair) -> None:
    dev, prod, head = pair
    dev.eval('(define (f x) "Scale." (if (= x 0) 0 (/ 10 x)))')
    fix = protocol.commit_map(dev.image.root.history.latest("f"))
    other = protocol.ephemeral_signer()
    with pytest.raises(A.HotfixRefused, match="not signed by the hub this channel welcomed"):
        A.apply(prod, apply_frame(1, head, (fix,), signer=other), HUB_KEY)
    prod._change(lambda: hotlog.trust(prod.image.root.settings, "ab" * 32, "another hub"),
                 "trust")
    with pytest.raises(A.HotfixRefused, match="not one this image trusts"):
        A.apply(prod, apply_frame(2, head, (fix,)), HUB_KEY)
    prod._change(lambda: hotlog.trust(prod.image.root.settings, HUB_KEY, "hub"), "trust")
    summary = A.apply(prod, apply_frame(3, head, (fix,), (read(
        '{:name "f" :source "(check 0 (f 0))"}'),)), HUB_KEY)
    assert summary["names"] == ["f"] and prod.eval("(main)") == 0
    assert views.findings(prod.image.root) == []
    assert [e.outcome for e in hotlog.entries(prod.image.root.settings)][-1] == "applied"


def test_a_malformed_check_or_a_failing_source_is_refused_whole(pair) -> None:
    dev, prod, head = pair
    dev.eval('(define (f x) "Scale." (if (= x 0) 0 (/ 10 x)))')
    fix = protocol.commit_map(dev.image.root.history.latest("f"))
    with pytest.raises(A.HotfixRefused, match="is not \\(check EXPECTED EXPR\\)"):
        A.apply(prod, apply_frame(1, head, (fix,), (read('{:name "f" :source "(+ 1 2)"}'),)),
                HUB_KEY)
    broken = forge(head, source="(define (f x) (car 5))", state="0" * 64)
    with pytest.raises(A.HotfixRefused, match="state"):
        A.apply(prod, apply_frame(2, head, (broken,)), HUB_KEY)
    failing = forge(head, source="(car 5)")
    with pytest.raises(A.HotfixRefused, match="evaluating f failed"):
        A.apply(prod, apply_frame(3, head, (failing,)), HUB_KEY)
    assert A.head_of(prod.image.root) == head


def test_inspect_sees_copies_and_refuses_what_it_is_not_granted(pair) -> None:
    _, prod, _ = pair
    prod.eval("(define table (vector 1 2 3))")
    prod.eval("(define counter (box 0))")
    assert inspect(prod, read("(vector-ref (prod/value 'table) 2)")) == 3
    assert type(inspect(prod, read("(prod/value 'counter)"))) is str    # a box: its text only
    for form, group in [('(world/save "x")', "image"), ("(eval 1)", "eval"),
                        ("(display 1)", "output"), ('(message/sign 1)', "host")]:
        with pytest.raises(InspectRefused, match=f":{group} capability"):
            inspect(prod, read(form))
    with pytest.raises(LispError, match="not defined"):
        inspect(prod, read("(prod/value 'nothing)"))
    assert inspect(prod, read("'(world/save \"quoted data is fine\")")) is not None


def test_a_report_stays_under_the_frame_limit(pair) -> None:
    _, prod, _ = pair
    big = "x" * 200_000
    for i in range(8):
        prod.eval(f'(define (big{i}) "{big}" (car 5))')
    prod.eval("(define (all) " + " ".join(f"(big{i})" for i in range(8)) + ")")
    with pytest.raises(LispError) as e:
        prod.eval("(begin (all) (big0))")
    report = report_of(prod, e.value, read("(begin (all) (big0))"))
    text = protocol.frame(HUB, "error-report", 1, **report)
    assert len(text) <= protocol.MAX_FRAME and 0 < len(report["definitions"]) < 9


def test_a_frame_refused_while_building_uses_up_no_seq() -> None:
    out = protocol.Outbound(HUB)
    with pytest.raises(MessageError):
        out.frame("result", re_id=1, value="x" * (protocol.MAX_FRAME + 1))
    inbound = protocol.Inbound()
    assert inbound.accept(out.frame("close", reason="bye")).seq == 1
