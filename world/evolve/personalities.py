"""Lineage personalities: a system-prompt addendum per lineage (`--personalities FILE`).

The file is either a JSON list of objects

    [{"name": "minimalist", "prompt": "Prefer the smallest evaluator that works."},
     {"name": "builder", "prompt": "Build abstractions: helpers and special forms."}]

or text in blocks, each starting with a `# name` line (the text runs to the
next `# name` line; `##` and deeper lines are text, blank lines around a
block are dropped, a line before the first block may only be blank):

    # minimalist
    Prefer the smallest evaluator that works.
    # builder
    Build abstractions: helpers and special forms.

A file whose first character (after blanks) is `[` or `{`, or whose name
ends in `.json`, is JSON. Names are one line of at most 40 characters
(letters, digits, space, `_ . + -`), distinct; texts are non-empty and at
most 8 000 characters; at most 64 personalities. Anything else is an
`EvolveError` naming the file and line. The CLI reads the file into the run's
`personalities` setting, a tuple of (name, text) pairs, so the content is
recorded with the run; lineage i of each generation gets personality
i % len, its text appended to that lineage's system prompt under
"## Your personality", and its name is recorded with the lineage.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .agent_errors import EvolveError

MAX_FILE = 256 * 1024       # bytes
MAX_TEXT = 8000             # characters of one personality's text
MAX_COUNT = 64
NAME = re.compile(r"[^\W_][\w .+-]{0,39}")
HEADER = re.compile(r"#(?!#)[ \t]*(.*?)\s*")

Personalities = tuple[tuple[str, str], ...]


def load_personalities(path: str | Path) -> Personalities:
    """The personalities in the file at `path` (JSON or `# name` blocks)."""
    where = str(path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_FILE + 1)
    except OSError as e:
        raise EvolveError(f"{where}: cannot read the personalities file: {e.strerror or e}") from None
    if len(data) > MAX_FILE:
        raise EvolveError(f"{where}: a personalities file is at most {MAX_FILE} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise EvolveError(f"{where}:{line}: not UTF-8 text") from None
    return parse(text, where, json_hint=where.lower().endswith(".json"))


def parse(text: str, where: str = "<personalities>", json_hint: bool = False) -> Personalities:
    """The personalities in `text`; `where` names it in errors."""
    if json_hint or text.lstrip()[:1] in ("[", "{"):
        found = _from_json(text, where)
    else:
        found = _from_blocks(text, where)
    if not found:
        raise EvolveError(f"{where}:1: no personalities: expected a JSON list of "
                          f'{{"name": ..., "prompt": ...}} objects or blocks starting with "# name"')
    if len(found) > MAX_COUNT:
        raise EvolveError(f"{where}:{found[MAX_COUNT][0]}: at most {MAX_COUNT} personalities")
    seen: dict[str, int] = {}
    for line, name, body in found:
        _check(name, body, f"{where}:{line}")
        if name in seen:
            raise EvolveError(f"{where}:{line}: personality {name!r} is named twice "
                              f"(first at line {seen[name]})")
        seen[name] = line
    return tuple((name, body) for _, name, body in found)


def _check(name: Any, body: Any, where: str) -> None:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise EvolveError(f"{where}: a personality's name is one line of at most 40 letters, "
                          f"digits, spaces or _ . + -, starting with a letter or digit, "
                          f"not {_short(name)}")
    if not isinstance(body, str) or not body.strip():
        raise EvolveError(f"{where}: personality {name!r} has no text")
    if len(body) > MAX_TEXT:
        raise EvolveError(f"{where}: personality {name!r} is longer than {MAX_TEXT} characters")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 50 else text[:47] + "..."


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _from_json(text: str, where: str) -> list[tuple[int, Any, Any]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise EvolveError(f"{where}:{e.lineno}: not valid JSON: {e.msg}") from None
    except RecursionError:
        raise EvolveError(f"{where}:1: not valid JSON: nested too deeply") from None
    if not isinstance(data, list):
        raise EvolveError(f'{where}:1: expected a JSON list of {{"name": ..., "prompt": ...}} '
                          f"objects, not a {type(data).__name__}")
    # where each element starts, for its line number (the text is known to be valid JSON)
    decoder, pos, out = json.JSONDecoder(), text.index("[") + 1, []
    for item in data:
        while text[pos] in " \t\r\n,":
            pos += 1
        line = _line(text, pos)
        pos = decoder.raw_decode(text, pos)[1]
        if not isinstance(item, dict):
            raise EvolveError(f'{where}:{line}: expected an object {{"name": ..., "prompt": ...}}, '
                              f"not {_short(item)}")
        extra = sorted(set(item) - {"name", "prompt"})
        if extra or "name" not in item or "prompt" not in item:
            raise EvolveError(f'{where}:{line}: a personality is {{"name": ..., "prompt": ...}}; '
                              + (f"unknown key {extra[0]!r}" if extra else
                                 f"missing {'name' if 'name' not in item else 'prompt'!r}"))
        body = item["prompt"]
        out.append((line, item["name"], body.strip() if isinstance(body, str) else body))
    return out


def _from_blocks(text: str, where: str) -> list[tuple[int, Any, Any]]:
    out: list[tuple[int, Any, Any]] = []
    lines: list[str] = []
    for n, raw in enumerate(text.splitlines(), 1):
        m = HEADER.fullmatch(raw)
        if m is not None:
            if out:
                out[-1] = (*out[-1][:2], "\n".join(lines).strip("\n"))
            if not m.group(1):
                raise EvolveError(f"{where}:{n}: a personality's '# name' line needs a name")
            out.append((n, m.group(1), ""))
            lines = []
        elif out:
            lines.append(raw.rstrip())
        elif raw.strip():
            raise EvolveError(f"{where}:{n}: text before the first '# name' line")
    if out:
        out[-1] = (*out[-1][:2], "\n".join(lines).strip("\n"))
    return out


def normalize(value: Any) -> Personalities | None:
    """The `personalities` setting checked and as a tuple of (name, text) pairs (None: none)."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise EvolveError("personalities must be (name, text) pairs: read a file with "
                          "world.evolve.personalities.load_personalities")
    pairs = []
    for i, pair in enumerate(value, 1):
        if isinstance(pair, dict):
            pair = (pair.get("name"), pair.get("prompt"))
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise EvolveError(f"personality {i} must be a (name, text) pair, not {_short(pair)}")
        pairs.append((pair[0], pair[1]))
    return parse_pairs(pairs)


def parse_pairs(pairs: list[tuple[Any, Any]]) -> Personalities | None:
    """(name, text) pairs checked as a file's would be; None for no pairs."""
    if not pairs:
        return None
    if len(pairs) > MAX_COUNT:
        raise EvolveError(f"at most {MAX_COUNT} personalities, not {len(pairs)}")
    seen: set[str] = set()
    for i, (name, body) in enumerate(pairs, 1):
        _check(name, body, f"personality {i}")
        if name in seen:
            raise EvolveError(f"personality {name!r} is named twice")
        seen.add(name)
    return tuple((name, body.strip()) for name, body in pairs)


def for_lineage(settings: dict[str, Any] | None, index: int) -> tuple[str, str] | None:
    """The (name, text) of lineage `index`'s personality: number index % count (None: none)."""
    found = (settings or {}).get("personalities")
    if not found:
        return None
    name, body = found[index % len(found)]
    return str(name), str(body)


def name_for(settings: dict[str, Any] | None, index: int) -> str:
    """The name of lineage `index`'s personality ('' when the run has none)."""
    found = for_lineage(settings, index)
    return found[0] if found else ""


def system_text(text: str, settings: dict[str, Any] | None, index: int) -> str:
    """A system prompt with lineage `index`'s personality appended (as it is without one)."""
    found = for_lineage(settings, index)
    if found is None:
        return text
    return f"{text.rstrip()}\n\n## Your personality\n{found[1]}\n"
