"""Building a graph: every [graph] expression parsed, the nodes ordered and counted against
the limits, and all of it compiled into one flat list of instructions, children first."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from .errors import ExpressionError, ScenarioError
from .expr import Expr, parse
from .graph_values import Value, as_value
from .limits import MAX_GRAPH_NODES
from .ops import FUNCTIONS, OPS, Op, const_operand, const_pow
from .shapes import check_values

_IDENTITY = Op("id", 1, lambda a: a, lambda g, o, a: (g,), "", "d a/da = 1")


@dataclass
class Node:
    """One node: a parameter, a data array, a constant or an operation on other nodes."""

    index: int
    label: str  # the given name, or the source text of an anonymous sub-expression
    kind: str  # "param", "data", "const" or "op"
    named: bool  # params, data and [graph] nodes are named; sub-expressions are not
    owner: int  # the named node whose expression created this node (itself if named)
    op: Op | None = None
    inputs: tuple[int, ...] = ()
    expr: str = ""  # for named op nodes: the expression as written
    refs: tuple[str, ...] = field(default=())  # named nodes the expression refers to directly


class GraphBuilder:
    """The construction half of ``Graph``: ``build`` and the compiler it runs (an explicit
    stack throughout, so a deep expression or a long chain never meets Python's recursion
    limit)."""

    nodes: list[Node]
    index: dict[str, int]
    params: list[str]
    data: list[str]
    order: list[str]
    trees: dict[str, Expr]
    source: str
    _vals: list[Value]
    _prog: list[tuple[int, Any, tuple[int, ...]]]
    _spans: dict[int, tuple[int, int]]
    _depends_on_param: list[bool]
    _scalar: bool

    @classmethod
    def build(
        cls,
        params: Mapping[str, Any],
        data: Mapping[str, Any] | None = None,
        nodes: Mapping[str, str] | None = None,
        source: str = "<graph>",
    ) -> Self:
        """Parse, check and compile a graph; raise ScenarioError naming file and node."""
        g = cls()
        g.source = source
        data = data or {}
        nodes = nodes or {}
        for kind, table in (("param", params), ("data", data)):
            for name, v in table.items():
                if name in g.index:
                    raise ScenarioError(f"{source}: name '{name}' is defined twice")
                g._add(Node(len(g.nodes), name, kind, True, len(g.nodes)), as_value(v))
                (g.params if kind == "param" else g.data).append(name)
        size = len(g.nodes) + len(nodes)
        if size > MAX_GRAPH_NODES:
            raise ScenarioError(f"{source}: {size} parameters, data and [graph] nodes (the limit "
                                f"is {MAX_GRAPH_NODES} nodes in a graph)")
        for name in nodes:
            if name in g.index:
                raise ScenarioError(
                    f"{source}: [graph] node '{name}' has the name of a {g.nodes[g.index[name]].kind}"
                )
            if name in FUNCTIONS:
                raise ScenarioError(f"{source}: [graph] node '{name}': '{name}' is a function name")
        known = set(g.index) | set(nodes)
        trees: dict[str, Expr] = {}
        for name, text in nodes.items():
            trees[name] = parse(text, known, source=source, where=f"[graph] node '{name}'")
        g.trees = trees
        g.order = _topological(trees, nodes, source)
        for name in g.order:
            g._compile_named(name, nodes[name], trees[name])
            if len(g.nodes) > MAX_GRAPH_NODES:
                raise ScenarioError(
                    f"{source}: [graph] node '{name}': the graph has grown to {len(g.nodes)} "
                    f"nodes with the sub-expressions (the limit is {MAX_GRAPH_NODES})"
                )
        check_values(g)  # before anything is computed: no node may ask for gigabytes
        g._scalar = all(type(g._vals[n.index]) is float for n in g.nodes if n.kind != "op")
        g._depends_on_param = [False] * len(g.nodes)
        for n in g.nodes:
            g._depends_on_param[n.index] = n.kind == "param" or any(
                g._depends_on_param[j] for j in n.inputs
            )
        return g

    def _add(self, node: Node, value: Value = None) -> int:
        self.nodes.append(node)
        self._vals.append(value)
        if node.named:
            self.index[node.label] = node.index
        return node.index

    def _compile_named(self, name: str, text: str, tree: Expr) -> None:
        start = len(self._prog)
        self._compile_expression(name, text, tree)
        if name in self.index:  # the instructions of its own expression, for local_gradients
            self._spans[self.index[name]] = (start, len(self._prog))

    def _compile_expression(self, name: str, text: str, tree: Expr) -> None:
        owner = len(self.nodes) if tree.kind != "op" else -1
        if tree.kind == "const":
            self._add(Node(len(self.nodes), name, "const", True, owner, expr=text), tree.value)
            return
        if tree.kind == "name":
            i = self._add(Node(len(self.nodes), name, "op", True, owner, _IDENTITY,
                               (self.index[tree.name],), text, (tree.name,)))
            self._prog.append((i, _IDENTITY.forward, (self.index[tree.name],)))
            return
        # the named node is created last, so reserve its owner index by compiling children first
        first = len(self.nodes)
        root = self._compile_tree(tree, owner=-1)
        node = self.nodes[root]
        node.label, node.named, node.expr = name, True, text
        node.refs = tuple(sorted(tree.names(), key=lambda n: self.index[n]))
        self.index[name] = root
        for n in self.nodes[first:]:
            n.owner = root

    def _compile_tree(self, root: Expr, owner: int) -> int:
        """Add the nodes of one expression tree (children first, left to right); return the
        root's index. An explicit stack, not recursion: a tree may be a thousand levels deep."""
        done: list[int] = []  # node indices of finished sub-trees, in order
        stack: list[tuple[Expr, Op | None, int]] = [(root, None, 0)]
        while stack:
            t, op, n = stack.pop()
            if op is not None:  # its n operands are compiled: add the operation itself
                ins = tuple(done[len(done) - n:])
                del done[len(done) - n:]
                i = self._add(Node(len(self.nodes), t.text, "op", False, owner, op, ins))
                self._prog.append((i, op.forward, ins))
                done.append(i)
                continue
            if t.kind == "name":
                done.append(self.index[t.name])
                continue
            if t.kind == "const":
                done.append(self._add(Node(len(self.nodes), t.text, "const", False, owner),
                                      t.value))
                continue
            op, operands = self._operation(t)
            stack.append((t, op, len(operands)))
            stack.extend((a, None, 0) for a in reversed(operands))
        return done[0]

    @staticmethod
    def _operation(t: Expr) -> tuple[Op, tuple[Expr, ...]]:
        """The op an expression node compiles to and the operands that become inputs: a
        constant exponent or operand is folded into a unary op (w**2, 2*w) when it can be."""
        op = OPS[t.name]
        if op.name == "pow" and t.args[1].kind == "const":
            fwd, bwd = const_pow(t.args[1].value)
            return Op(f"pow{t.args[1].value:g}", 1, fwd, bwd, "**", OPS["pow"].derivative), \
                (t.args[0],)
        if len(t.args) == 2 and (t.args[0].kind == "const") != (t.args[1].kind == "const"):
            left = t.args[0].kind == "const"
            c, other = (t.args[0], t.args[1]) if left else (t.args[1], t.args[0])
            special = const_operand(op.name, c.value, left)
            if special is not None:
                return Op(op.name, 1, special[0], special[1], op.symbol, op.derivative), (other,)
        return op, t.args


def _topological(trees: Mapping[str, Expr], nodes: Mapping[str, str], source: str) -> list[str]:
    """The [graph] nodes ordered so that each comes after the nodes it uses; refuse cycles.

    A depth-first search with an explicit stack (a chain of thousands of nodes is fine).
    """
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in trees:
        if state.get(start) is not None:
            continue
        state[start] = 1
        path = [start]
        pending = [iter(sorted(trees[start].names()))]
        while pending:
            name = path[-1]
            dep = next((d for d in pending[-1] if d in trees), None)
            if dep is None:
                pending.pop()
                path.pop()
                state[name] = 2
                order.append(name)
            elif state.get(dep) == 1:
                cycle = " -> ".join(path[path.index(dep):] + [dep])
                raise ExpressionError(
                    f"{source}: [graph] node '{name}': cycle between graph nodes ({cycle}) "
                    f"in {nodes[name]!r}"
                )
            elif state.get(dep) is None:
                state[dep] = 1
                path.append(dep)
                pending.append(iter(sorted(trees[dep].names())))
    return order
