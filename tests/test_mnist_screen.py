"""MNIST's panels of the network screen: half-block digits, the confusion matrix, the layers' numbers
and the four equations (the screen itself: tests/test_network_screen.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tui.widgets.digits import digit_lines, downsample, grid_layout, label_text
from tui.widgets.mnist_panels import (
    confusion_matrix,
    confusion_table,
    equations,
    layer_rows,
    layer_table,
)
from tui.widgets.network_views import loss_curve

FAST = ["data.train_limit=1000", "run.epochs=2", "run.batch_size=32"]


@pytest.fixture(autouse=True)
def bundled_subset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Make load_mnist fall back to the bundled subset: no $GDLAB_MNIST_DIR, an empty cache."""
    monkeypatch.delenv("GDLAB_MNIST_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


# -- pure pieces ----------------------------------------------------------------------------

def test_a_digit_is_28_by_14_half_blocks_upper_pixel_fg_lower_bg() -> None:
    img = np.zeros((28, 28), np.uint8)
    img[0, 0], img[1, 0], img[2, 5] = 255, 100, 7
    rows = digit_lines(img.reshape(-1))
    assert len(rows) == 14 and all(len(r) == 28 for r in rows)
    assert all(seg.text == "▀" for r in rows for seg in r)
    first = rows[0][0].style
    assert first.color.triplet == (255, 255, 255) and first.bgcolor.triplet == (100, 100, 100)
    assert rows[1][5].style.color.triplet == (7, 7, 7)  # pixel row 2 is the upper half of cell row 1
    half = digit_lines(img.reshape(-1), half=True)
    assert len(half) == 7 and all(len(r) == 14 for r in half)
    wrong = digit_lines(img.reshape(-1), wrong=True)[0][0].style
    assert wrong.color.triplet[0] == 255 and wrong.color.triplet[1] < 255  # red ink


def test_downsample_averages_2x2_blocks() -> None:
    img = np.zeros((28, 28), np.uint8)
    img[0:2, 0:2] = [[255, 255], [0, 2]]
    out = downsample(img)
    assert out.shape == (14, 14) and out[0, 0] == (255 + 255 + 0 + 2) // 4 and out[1, 1] == 0


def test_grid_layout_full_size_when_it_fits_half_when_short() -> None:
    assert grid_layout(130, 32, 40) == (False, 4, 2)  # 4 x (28 + 1 gap), 2 x (14 + label)
    half, cols, rows = grid_layout(76, 18, 40)
    assert half and cols == 5 and rows == 2  # 5 x (14 + 1), 2 x (7 + label)
    assert grid_layout(130, 32, 3) == (False, 3, 1)
    assert label_text(5, None) == "true 5" and label_text(5, 3) == "pred 3 true 5"


def test_confusion_matrix_rows_true_columns_predicted() -> None:
    m = confusion_matrix(np.array([0, 0, 1, 9]), np.array([0, 1, 1, 9]))
    assert m.shape == (10, 10) and m.sum() == 4
    assert m[0, 0] == 1 and m[0, 1] == 1 and m[1, 1] == 1 and m[9, 9] == 1
    assert confusion_table(m).row_count == 10 and confusion_table(None).row_count == 10


def test_layer_rows_attach_numbers_to_the_equations() -> None:
    stats = [
        {"layer": 1, "W_shape": (30, 784), "delta_norm": 0.02, "grad_W_norm": 0.08,
         "grad_b_norm": 0.01, "W_norm": 152.2},
        {"layer": 2, "W_shape": (10, 30), "delta_norm": 0.05, "grad_W_norm": 0.07,
         "grad_b_norm": 0.02, "W_norm": 16.9},
    ]
    rows = layer_rows(stats)
    assert rows[0][:3] == ["1", "30×784", "0.0200"]
    assert rows[1][0] == "2 out" and rows[1][4] == "0.0700"
    table = layer_table(stats)
    assert table.row_count == 2
    # what each norm is taken over is said: the two norms of delta are different quantities
    assert "avg‖δˡ‖" in [str(c.header) for c in table.columns]
    assert "each example's ‖δˡ‖ (BP1, BP2), averaged" in str(table.caption)
    assert "‖∂C/∂bˡ‖ = ‖δˡ averaged‖" in str(table.caption)
    from engine.models.costs import PAIRS

    ce = equations(PAIRS["softmax", "cross_entropy"].bp1_formula, "softmax", "cross_entropy",
                   ["relu"]).plain
    assert "δᴸ = aᴸ - onehot(y)" in ce and "relu'(zˡ)" in ce and "softmax + cross-entropy" in ce
    quad = equations(PAIRS["sigmoid", "quadratic"].bp1_formula, "sigmoid", "quadratic",
                     ["sigmoid"]).plain
    assert "δᴸ = (aᴸ - y) * σ'(zᴸ)" in quad and "σ'(zˡ)" in quad
    for name in ("BP1", "BP2", "BP3", "BP4"):
        assert name in ce


def test_loss_curve_drops_nan_and_averages_down_to_the_limit() -> None:
    pts = [(i / 10, float(i)) for i in range(1000)] + [(100.0, float("nan"))]
    xs, ys = loss_curve(pts, 100)
    assert len(xs) == 100 and ys[0] == pytest.approx(4.5) and np.isfinite(ys).all()
    assert loss_curve(pts[:5], 100) == ([0.0, 0.1, 0.2, 0.3, 0.4], [0.0, 1.0, 2.0, 3.0, 4.0])
    assert loss_curve([], 10) == ([], [])
