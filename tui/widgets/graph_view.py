"""The graph panel: every named node from the output down to the parameters, as a drawn tree.

Each line shows the node's expression, its value and d output / d node; a parameter also shows
the central finite-difference estimate of its gradient. A node reached along several paths
appears under each of them, so every path from a parameter to the output can be followed.
The alternative view draws the same graph as a diagram: each node with arrows from its inputs.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

from engine.graph import Graph

from ..formatting import fmt
from .probe import Point, edge_text, num

MAX_LINES = 200
MAX_DIAGRAM_NODES = 16  # larger graphs (or nodes with more inputs) are shown as the tree
MAX_DIAGRAM_INPUTS = 6


class GraphPanel(Vertical):
    """The computation graph as a tree rooted at the output, and the backward walk-through."""

    def compose(self) -> ComposeResult:
        tree: Tree[str] = Tree("graph", id="graph-tree")
        tree.can_focus = False
        tree.show_root = True
        yield tree
        yield Static("", id="graph-diagram", markup=False)
        with VerticalScroll(id="walk-box"):
            yield Static("", id="walk", markup=False)

    def use_diagram(self, on: bool) -> None:
        """Show the drawn diagram (True) or the tree (False)."""
        self.set_class(on, "-diagram")

    def show(self, graph: Graph, output: str, train: tuple[str, ...], point: Point | None,
             highlight: tuple[str, str] | None = None) -> None:
        """Draw the tree at ``point``; ``highlight`` = (parent, child) of the edge being visited."""
        tree = self.query_one("#graph-tree", Tree)
        if self.has_class("-diagram"):
            lines = diagram_lines(graph, output, train, point)
            if lines is not None:
                self.query_one("#graph-diagram", Static).update("\n".join(lines))
                self.set_class(False, "-too-large")
                return
            self.set_class(True, "-too-large")
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
        self.query_one("#walk-box").scroll_end(animate=False)  # the newest term in view


def walk_lines(point: Point, output: str, upto: int) -> list[str]:
    """The first ``upto`` chain-rule terms, then the totals once the walk is complete."""
    lines = [f"edge {min(upto, len(point.edges))} of {len(point.edges)} (b: next) · "
             "∂: in one node's expression · d: through the graph"]
    for e in point.edges[:upto]:
        lines += edge_text(e, output, point)
    if upto >= len(point.edges):
        totals: dict[str, float] = {}
        for e in point.edges:
            totals[e.child] = e.total
        lines.append("done: " + ", ".join(f"d{output}/d{k} = {num(v)}" for k, v in totals.items()))
    return lines


def diagram_lines(graph: Graph, output: str, train: tuple[str, ...],
                  point: Point | None) -> list[str] | None:
    """The graph drawn with box-drawing arrows from each node's inputs; None if too large.

    ``w ─┐`` / ``b ─┴──> x = 2*w + 3*b = 17.4`` : every [graph] node in evaluation order, its
    inputs joined by a bracket into one arrow, then its value and d output / d node.
    """
    named = [graph.nodes[graph.index[name]] for name in graph.order]
    if point is None or point.error or len(named) > MAX_DIAGRAM_NODES \
            or any(len(n.refs) > MAX_DIAGRAM_INPUTS for n in named):
        return None
    width = max((len(r) for n in named for r in n.refs), default=1)

    def grad(name: str) -> str:
        g = point.grads.get(name)
        return "" if g is None else f"   d{output}/d{name} = {fmt(g)}"

    lines = ["parameters: " + ", ".join(
        f"{p} = {fmt(point.values.get(p))} ({'trained' if p in train else 'fixed'})"
        for p in graph.params)]
    if graph.data:
        lines.append("data: " + ", ".join(graph.data))
    lines.append("")
    for n in named:
        head = f"{n.label} = {n.expr} = {fmt(point.values.get(n.label))}{grad(n.label)}"
        refs = list(n.refs) or ["(constant)"]
        for i, ref in enumerate(refs):
            if len(refs) == 1:
                joint = " ────> "
            elif i == 0:
                joint = " ─┐"
            elif i < len(refs) - 1:
                joint = " ─┤"
            else:
                joint = " ─┴──> "
            lines.append(f"{ref:>{width}}{joint}" + (head if i == len(refs) - 1 else ""))
    lines += ["", "gradients: " + ", ".join(
        f"d{output}/d{p} = {fmt(point.grads.get(p))}" for p in graph.params
        if point.grads.get(p) is not None)]
    return lines
