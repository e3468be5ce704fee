"""The data a network trains on: training, test and (optionally) validation examples.

Inputs are rows (N, n_features), uint8 images or floats; labels are class indices (N,) or
regression targets (N, n_out). A validation set is held out of the training examples, as
Nielsen holds out the last 10,000 of MNIST's 60,000. The field names are those every network
data set uses (``X_train``, ``y_train``, ..., ``description``): engine/train.py reads them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class DataSplit:
    """Training, test and optional validation examples, and a sentence saying what they are."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    X_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    description: str = ""
    is_subset: bool = False

    @property
    def n_features(self) -> int:
        """Inputs per example."""
        return int(self.X_train.shape[1])

    def hold_out(self, n: int) -> DataSplit:
        """A copy whose last ``n`` training examples are the validation set (views, no copy)."""
        if n <= 0:
            return self
        k = self.X_train.shape[0] - n
        return DataSplit(self.X_train[:k], self.y_train[:k], self.X_test, self.y_test,
                         self.X_train[k:], self.y_train[k:], self.description, self.is_subset)


def labels_max(y: np.ndarray) -> int:
    """The largest class index among labels ``y`` (N,) (-1 when there are none)."""
    return int(np.max(y)) if y.size else -1
