"""The graph panel: every named node from the output down to the parameters, as a drawn tree.

Each line shows the node's expression, its value and d output / d node; a parameter also shows
the central finite-difference estimate of its gradient. A node reached along several paths
appears under each of them, so every path from a parameter to the output can be followed.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

from engine.graph import Graph

from ..formatting import fmt
from .probe import Point, edge_text

MAX_LINES = 200


class GraphPanel(Vertical):
    """The computation graph as a tree rooted at the output, and the backward walk-through."""

    def compose(self) -> ComposeResult:
        tree: Tree[str] = Tree("graph", id="graph-tree")
        tree.can_focus = False
        tree.show_root = True
        yield tree
        yield Static("", id="walk", markup=False)

    def show(self, graph: Graph, output: str, train: tuple[str, ...], point: Point | None,
             highlight: tuple[str, str] | None = None) -> None:
        """Draw the tree at ``point``; ``highlight`` = (parent, child) of the edge being visited."""
        tree = self.query_one("#graph-tree", Tree)
        tree.clear()
        if point is None or point.error:
            tree.root.set_label(Text(point.error if point else "no state yet", style="red"))
            return
        count = [0]

        def label(name: str, parent: str | None) -> Text:
            node = graph.nodes[graph.index[name]]
            t = Text()
            style = "bold"
            if highlight is not None and highlight == (parent, name):
                style = "bold reverse"
            elif highlight is not None and name == highlight[0] and parent != name:
                style = "bold underline"
            t.append(name, style=style)
            if node.kind == "param":
                t.append(" (trained)" if name in train else " (fixed)", style="dim")
            elif node.kind == "data":
                t.append(" (data)", style="dim")
            elif node.expr:
                t.append(f" = {node.expr}", style="cyan")
            t.append(f" = {fmt(point.values.get(name))}")
            g = point.grads.get(name)
            if g is not None:
                t.append(f"  d{output}/d{name} = {fmt(g)}", style="green")
            if name in point.fd:
                t.append(f"  finite diff. {point.fd[name]:.12g}", style="yellow")
            return t

        seen: set[str] = set()

        def grow(tnode: TreeNode[str], name: str) -> None:
            node = graph.nodes[graph.index[name]]
            for ref in node.refs:
                count[0] += 1
                if count[0] > MAX_LINES:
                    return
                kid = graph.nodes[graph.index[ref]]
                text = label(ref, name)
                if kid.refs and ref in seen:
                    text.append("  (expanded above)", style="dim")
                    tnode.add_leaf(text, data=ref)
                elif kid.refs:
                    seen.add(ref)
                    grow(tnode.add(text, data=ref, expand=True), ref)
                else:
                    tnode.add_leaf(text, data=ref)

        tree.root.set_label(label(output, None))
        tree.root.data = output
        grow(tree.root, output)
        tree.root.expand()

    def show_walk(self, lines: list[str]) -> None:
        """The walk-through so far, one chain-rule term per line."""
        self.query_one("#walk", Static).update("\n".join(lines))


def walk_lines(point: Point, output: str, upto: int) -> list[str]:
    """The first ``upto`` chain-rule terms, then the totals once the walk is complete."""
    lines = ["backward walk-through (b: next edge)"]
    lines += [edge_text(e, output) for e in point.edges[:upto]]
    if upto >= len(point.edges):
        totals: dict[str, float] = {}
        for e in point.edges:
            totals[e.child] = e.total
        lines.append("done: " + ", ".join(f"d{output}/d{k} = {fmt(v)}" for k, v in totals.items()))
    return lines
