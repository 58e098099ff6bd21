"""The latest version of every definition, in an order that defines dependencies
before their users: what `dump` writes (each name once, as a file `world run` loads).

This is not how a rebuild replays history (see rebuild.py): a data definition
computed from a name redefined later would see the later version here.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any

from ..audit.checks import symbols_in
from ..lisp.errors import LispError
from ..lisp.reader import read


@dataclass
class Item:
    """One form to write (or replay) and the recorded commits it stands for."""

    seq: int
    kind: str
    symbols: list[str]
    seqs: list[int]
    source: str
    typed: str


def latest_in_order(commits: list[Any], skip: tuple[str, ...] = ("undefine",)) -> list[Item]:
    """One item per form that made the latest version of a name in `commits` (oldest first),
    ordered so dependencies come first."""
    # an `uncheck` changes a name's checks, not its definition: never its latest version
    latest: dict[str, Any] = {c.symbol: c for c in commits if c.kind != "uncheck"}
    items: dict[str, Item] = {}       # by source: a form that made several definitions is one item
    for sym, c in latest.items():
        if c.kind in skip:
            continue
        it = items.get(c.source)
        if it is None:
            items[c.source] = Item(c.seq, c.kind, [sym], [c.seq], c.source, c.typed)
        else:
            it.symbols.append(sym)
            it.seqs.append(c.seq)
            it.seq = min(it.seq, c.seq)
    plan = list(items.values())
    # A form that once defined a name, kept for the other names it made, comes before the
    # form that made that name's latest version: it may be what the later change builds on.
    index = {it.source: i for i, it in enumerate(plan)}
    owner = {sym: i for i, it in enumerate(plan) for sym in it.symbols}
    earlier: dict[int, set[int]] = {}
    for c in commits:
        i, j = owner.get(c.symbol), index.get(c.source)
        if i is not None and j is not None and i != j and plan[j].seq < plan[i].seq:
            earlier.setdefault(i, set()).add(j)
    return dependency_order(plan, earlier)


def dependency_order(items: list[Item], extra: dict[int, set[int]] | None = None) -> list[Item]:
    """`items` ordered so each comes after the items defining names it uses, and after the
    items `extra` names for it; items that need each other (a cycle) keep their history order."""
    owner = {s: i for i, it in enumerate(items) for s in it.symbols}
    needs: list[set[int]] = []
    for i, it in enumerate(items):
        try:
            used = symbols_in(read(it.source), set())
        except LispError:
            used = set()
        needs.append({owner[s] for s in used if s in owner and owner[s] != i}
                     | (extra or {}).get(i, set()))
    comps = components(needs)
    comp_of = {i: k for k, members in enumerate(comps) for i in members}
    first = [min(items[i].seq for i in members) for members in comps]
    users: dict[int, set[int]] = {}
    left = [0] * len(comps)
    for i, deps in enumerate(needs):
        for d in deps:
            a, b = comp_of[d], comp_of[i]
            if a != b and b not in users.setdefault(a, set()):
                users[a].add(b)
                left[b] += 1
    ready = [(first[k], k) for k in range(len(comps)) if not left[k]]
    heapq.heapify(ready)
    out: list[Item] = []
    while ready:
        _, k = heapq.heappop(ready)
        out += sorted((items[i] for i in comps[k]), key=lambda it: it.seq)
        for u in users.get(k, ()):
            left[u] -= 1
            if not left[u]:
                heapq.heappush(ready, (first[u], u))
    return out


def components(needs: list[set[int]]) -> list[list[int]]:
    """The strongly connected components of the graph i -> needs[i] (Tarjan, without recursion)."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    stack: list[int] = []
    on: set[int] = set()
    out: list[list[int]] = []
    counter = 0
    for root in range(len(needs)):
        if root in index:
            continue
        work = [(root, iter(sorted(needs[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            pushed = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(needs[w]))))
                    pushed = True
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            if pushed:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(comp)
    return out
