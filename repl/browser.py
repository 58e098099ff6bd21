"""The full-screen inspector (`,browse`): walk an inspect tree with the arrow
keys, open procedures and records, and read any node's source.

Left: the tree, one row per visible node. Right: the selected node, its
source highlighted when it has one (a definition, a procedure, a version).
Keys: Up/Down move, Right/Enter open, Left closes or goes to the parent,
Home/End jump, q or Esc leaves.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prompt_toolkit.application import Application
from prompt_toolkit.data_structures import Point
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.input import Input
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.key_binding.key_processor import KeyPressEvent
from prompt_toolkit.layout import HSplit, Layout, VSplit, Window
from prompt_toolkit.layout.controls import FormattedTextControl
from prompt_toolkit.output import Output

from world.lisp.printer import write
from world.lisp.types import Closure, Keyword, LispMap

from . import inspect_view, render

MAX_ROWS_PER_NODE = 500
SOURCE = Keyword("source")


@dataclass
class Row:
    """One visible node of the tree."""

    path: tuple[int, ...]
    depth: int
    label: str
    value: Any
    branch: bool


def source_of(v: Any) -> str | None:
    """The source text a node stands for, if it has one."""
    if type(v) is LispMap:
        s = v.get(SOURCE, None)
        return s if type(s) is str else None
    if type(v) is Closure:
        return write(v.tmpl.form)
    return None


class Browser:
    """A full-screen walk over one inspect map."""

    def __init__(self, root: Any, title: str = "inspect", *, input: Input | None = None,
                 output: Output | None = None) -> None:
        self.root, self.title = root, title
        self.expanded: set[tuple[int, ...]] = {()}
        self.cursor = 0
        self._kids: dict[tuple[int, ...], list[tuple[str, Any]] | None] = {}
        tree = FormattedTextControl(self._tree_text, focusable=True, show_cursor=False,
                                    get_cursor_position=lambda: Point(0, self.cursor))
        self.app: Application = Application(
            layout=Layout(HSplit([
                Window(FormattedTextControl(self._title_text), height=1, style="reverse"),
                VSplit([Window(tree, cursorline=True),
                        Window(width=1, char="│", style="class:tree.branch"),
                        Window(FormattedTextControl(self._detail_text), wrap_lines=True)]),
                Window(FormattedTextControl(self._help_text), height=1, style="reverse"),
            ]), focused_element=tree),
            key_bindings=self._bindings(), full_screen=True, style=render.STYLE,
            include_default_pygments_style=False, input=input, output=output)

    # ------------------------------------------------------------ the model
    def children(self, path: tuple[int, ...], value: Any) -> list[tuple[str, Any]] | None:
        """The children of the node at `path` (computed once)."""
        if path not in self._kids:
            kids = inspect_view.opened(value)
            self._kids[path] = None if kids is None else kids[:MAX_ROWS_PER_NODE]
        return self._kids[path]

    def rows(self) -> list[Row]:
        """The visible nodes, top to bottom."""
        out: list[Row] = []
        stack = [((), 0, "", self.root)]
        while stack:
            path, depth, label, value = stack.pop()
            kids = self.children(path, value)
            if path:
                out.append(Row(path, depth, label, value, kids is not None))
            if kids is not None and path in self.expanded:
                for i in reversed(range(len(kids))):
                    stack.append((path + (i,), depth + (1 if path else 0), kids[i][0], kids[i][1]))
        return out

    def selected(self) -> Row | None:
        """The row under the cursor."""
        rows = self.rows()
        if not rows:
            return None
        self.cursor = max(0, min(self.cursor, len(rows) - 1))
        return rows[self.cursor]

    def move(self, delta: int) -> None:
        """Move the cursor by `delta` rows."""
        self.cursor = max(0, min(self.cursor + delta, len(self.rows()) - 1))

    def open(self) -> None:
        """Expand the selected node, or step into it if already open."""
        row = self.selected()
        if row is None or not row.branch:
            return
        if row.path in self.expanded:
            self.move(1)
        else:
            self.expanded.add(row.path)

    def close(self) -> None:
        """Collapse the selected node, or go to its parent."""
        row = self.selected()
        if row is None:
            return
        if row.path in self.expanded:
            self.expanded.discard(row.path)
            return
        parent = row.path[:-1]
        for i, r in enumerate(self.rows()):
            if r.path == parent:
                self.cursor = i
                return

    # ------------------------------------------------------------ drawing
    def _title_text(self) -> FormattedText:
        return FormattedText([("", f" {self.title}: {inspect_view.summary(self.root)}")])

    def _help_text(self) -> FormattedText:
        return FormattedText([("", " ↑↓ move  → open  ← close/parent  q quit")])

    def _tree_text(self) -> FormattedText:
        parts: list[tuple[str, str]] = []
        for row in self.rows():
            mark = ("▾ " if row.path in self.expanded else "▸ ") if row.branch else "  "
            parts += [("", "  " * row.depth), ("class:tree.branch", mark),
                      ("class:tree.key", row.label), ("", " ")]
            parts.append(("class:tree.type" if row.branch else "",
                          inspect_view.leaf(row.label, row.value)))
            parts.append(("", "\n"))
        return FormattedText(parts[:-1])

    def _detail_text(self) -> FormattedText:
        row = self.selected()
        if row is None:
            return FormattedText([])
        parts: list[tuple[str, str]] = [("class:tree.key", row.label), ("", "\n\n")]
        source = source_of(row.value)
        if source is None and row.label == ":source" and type(row.value) is str:
            source = row.value
        if source is not None:
            parts += render.code(source)
        else:
            parts += inspect_view.tree(row.value, max_depth=3)
        return FormattedText(parts)

    # ------------------------------------------------------------ keys
    def _bindings(self) -> KeyBindings:
        kb = KeyBindings()
        kb.add("up")(lambda e: self.move(-1))
        kb.add("down")(lambda e: self.move(1))
        kb.add("pageup")(lambda e: self.move(-20))
        kb.add("pagedown")(lambda e: self.move(20))
        kb.add("home")(lambda e: self.move(-len(self.rows())))
        kb.add("end")(lambda e: self.move(len(self.rows())))
        kb.add("right")(lambda e: self.open())
        kb.add("enter")(lambda e: self.open())
        kb.add("left")(lambda e: self.close())

        @kb.add("q")
        @kb.add("escape", eager=True)
        @kb.add("c-c")
        def _(event: KeyPressEvent) -> None:
            event.app.exit()

        return kb

    def run(self) -> None:
        """Show the browser until the user leaves it."""
        self.app.run()
