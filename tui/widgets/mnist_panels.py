"""Rich renderables for the network dashboard: confusion matrix, backprop numbers per layer,
the four equations.

Pure functions of records (no Textual), so the app, tests and a text report can all use them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from rich import box
from rich.table import Table
from rich.text import Text

from ..formatting import fmt


def confusion_matrix(true: np.ndarray, pred: np.ndarray, classes: int = 10) -> np.ndarray:
    """Return counts (classes, classes): row = true label, column = predicted label."""
    t = np.asarray(true, np.int64)
    p = np.asarray(pred, np.int64)
    return np.bincount(t * classes + p, minlength=classes * classes).reshape(classes, classes)


def confusion_table(matrix: np.ndarray | None, classes: int = 10) -> Table:
    """A classes x classes table of counts (empty before the first epoch): the diagonal
    (right) in green, mistakes in red, zeros dim."""
    n = classes if matrix is None else matrix.shape[0]
    table = Table(box=box.SIMPLE_HEAD, padding=0, pad_edge=False,
                  show_edge=False, expand=False, caption="rows: true label, columns: predicted",
                  caption_style="dim")
    table.add_column("t╲p", justify="right", style="bold")
    for c in range(n):
        table.add_column(str(c), justify="right", min_width=4)
    table.add_column("acc", justify="right", min_width=4)
    if matrix is None:
        for r in range(n):
            table.add_row(str(r), *(Text("·", style="dim") for _ in range(n)), "")
        return table
    worst = max(1, int((matrix - np.diag(np.diag(matrix))).max()))
    for r in range(n):
        cells = []
        for c in range(n):
            v = int(matrix[r, c])
            if r == c:
                style = "bold green"
            elif v == 0:
                style = "dim"
            else:
                style = "bold red" if v * 2 >= worst else "red"
            cells.append(Text(str(v), style=style))
        total = int(matrix[r].sum())
        acc = f"{matrix[r, r] / total * 100:.0f}%" if total else "-"
        table.add_row(str(r), *cells, acc)
    return table


LAYER_HEADER = ("layer", "W", "avg‖δˡ‖", "‖∂C/∂bˡ‖", "‖∂C/∂Wˡ‖", "‖Wˡ‖")
# the two norms of delta differ on purpose: the first averages each example's norm, the
# second (BP3) is the norm of delta averaged over the batch, which is never larger
LAYER_CAPTION = ("avg‖δˡ‖: each example's ‖δˡ‖ (BP1, BP2), averaged; ‖∂C/∂bˡ‖ = ‖δˡ averaged‖ "
                 "(BP3), never larger; ‖∂C/∂Wˡ‖: BP4")


def layer_rows(stats: Sequence[dict[str, Any]]) -> list[list[str]]:
    """Rows of LAYER_HEADER from DenseNet.layer_stats(): the four equations' quantities per
    layer."""
    rows = []
    last = len(stats)
    for s in stats:
        rows.append([
            f"{s['layer']}" + (" out" if s["layer"] == last else ""),
            "×".join(str(d) for d in s["W_shape"]),
            fmt(s["delta_norm"], 4), fmt(s["grad_b_norm"], 4),
            fmt(s["grad_W_norm"], 4), fmt(s["W_norm"], 2),
        ])
    return rows


def layer_table(stats: Sequence[dict[str, Any]]) -> Table:
    """The per-layer backpropagation numbers as a rich Table (empty rows before training)."""
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), collapse_padding=True, pad_edge=False,
                  show_edge=False, caption=LAYER_CAPTION, caption_style="dim",
                  caption_justify="left")
    for i, h in enumerate(LAYER_HEADER):
        table.add_column(h, justify="left" if i < 2 else "right", no_wrap=True)
    for row in layer_rows(stats):
        table.add_row(*row)
    if not stats:
        table.add_row("-", "", "", "", "", "")
    return table


ACT_SYMBOL = {"sigmoid": "σ'", "tanh": "tanh'", "relu": "relu'", "linear": "1"}


def equations(bp1: str, output: str, cost: str, activations: Sequence[str]) -> Text:
    """The four backpropagation equations: BP1 as the network's output and cost make it (the
    engine's formula, ``OutputCost.bp1_formula``), BP2 with its hidden activation."""
    names = set(activations)
    act = ACT_SYMBOL.get(activations[0], "act'") if len(names) == 1 else "actˡ'" if names \
        else "σ'"
    bp2 = f"δˡ = ((Wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ {act}(zˡ)" if act != "1" else "δˡ = (Wˡ⁺¹)ᵀ δˡ⁺¹"
    bp1 = (bp1.replace("delta_L", "δᴸ").replace("a_L", "aᴸ").replace("z_L", "zᴸ")
           .replace("sigmoid'", "σ'"))
    note = f"({output} + {cost.replace('_', '-')})"
    text = Text()
    lines = [
        ("BP1", bp1, note),
        ("BP2", bp2, "(back a layer)" if names else "(no hidden layer: not used)"),
        ("BP3", "∂C/∂bˡ = δˡ", ""),
        ("BP4", "∂C/∂Wˡ = δˡ (aˡ⁻¹)ᵀ", ""),
    ]
    for i, (name, formula, why) in enumerate(lines):
        if i:
            text.append("\n")
        text.append(f"{name}  ", style="bold")
        text.append(formula)
        if why:
            text.append(f"  {why}", style="dim")
    text.append("\nmeans over the mini-batch; numbers: its last batch", style="dim italic")
    return text
