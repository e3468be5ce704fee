"""The four points of a logic gate: inputs (x1, x2) in {0, 1}^2, the gate's output the class.

Training and test sets are the same four rows (0,0), (0,1), (1,0), (1,1): the truth table is
the whole problem, so there is no train_fraction and no validation set.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..validate import Table
from .dataset import Dataset

INPUTS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
#: gate -> its outputs for the rows of INPUTS
GATES = {
    "and": (0, 0, 0, 1),
    "or": (0, 1, 1, 1),
    "nand": (1, 1, 1, 0),
    "nor": (1, 0, 0, 0),
    "xor": (0, 1, 1, 0),
}
KEYS = ("gate",)


def build(t: Table, base_dir: Path, source: str, name: str) -> Dataset:
    """The [data] table of source "gates": ``gate`` = "and", "or", "nand", "nor" or "xor"."""
    gate = t.choice("gate", tuple(GATES))
    labels = np.array(GATES[gate], dtype=np.intp)
    table = ", ".join(f"{int(a)}{int(b)} -> {c}" for (a, b), c in zip(INPUTS, labels, strict=True))
    return Dataset(
        "gates", f"gates: the truth table of {gate.upper()} ({table}); the four points are both "
        "the training and the test set.",
        INPUTS.copy(), labels.copy(), INPUTS.copy(), labels.copy(), ["x1", "x2"], 2,
        raw_names=["x1", "x2"], raw_train=INPUTS.copy(), raw_test=INPUTS.copy(),
        input_range=[(-0.5, 1.5), (-0.5, 1.5)],
    )
