"""The data a network trains on: training, test and (optionally) validation examples.

Inputs are rows (N, n_features), uint8 images or floats; labels are class indices (N,) or
targets (N, n_out). A validation set is held out of the training examples, as Nielsen holds
out the last 10,000 of MNIST's 60,000.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class DataSplit:
    """Training, test and optional validation examples, and where they came from."""

    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    validation_x: np.ndarray | None = None
    validation_y: np.ndarray | None = None
    source: str = ""
    is_subset: bool = False

    @property
    def n_features(self) -> int:
        """Inputs per example."""
        return int(self.train_x.shape[1])

    def hold_out(self, n: int) -> DataSplit:
        """A copy whose last ``n`` training examples are the validation set (views, no copy)."""
        if n <= 0:
            return self
        k = self.train_x.shape[0] - n
        return DataSplit(self.train_x[:k], self.train_y[:k], self.test_x, self.test_y,
                         self.train_x[k:], self.train_y[k:], self.source, self.is_subset)


def labels_max(y: np.ndarray) -> int:
    """The largest class index among labels ``y`` (N,) (-1 when there are none)."""
    return int(np.max(y)) if y.size else -1
