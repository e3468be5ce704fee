"""A settings change between steps (a session's `set`) carries the epoch count on, and the
learning-rate schedule with it, and keeps the order of rows of the epoch in progress."""

from __future__ import annotations

from pathlib import Path

from helpers import MINI_BATCH_LINE, same_records, write

from tui.replay import replay
from tui.session import Session

# --- a settings change carries the epoch count on --------------------------------------------

def _epochs(s: Session) -> list[int | None]:
    return [r.epoch for r in s.records]


def test_batch_size_null_mid_epoch_carries_the_epoch_count_on(tmp_path: Path) -> None:
    """Mini-batches of 2 of 6 rows (3 per epoch); after two batches of epoch 0 batch_size is
    removed: the cut-short epoch 0 is followed by epoch 1, one full batch each from then on,
    and the step schedule halves the learning rate at each of those epochs."""
    s = Session()
    s.open(str(write(tmp_path / "mini.toml", MINI_BATCH_LINE)))
    s.step(2)
    s.set("batch_size", None)
    s.step(3)
    assert _epochs(s) == [0, 0, 1, 2, 3]
    assert [r.batch for r in s.records] == [0, 1, None, None, None]
    assert [r.lr for r in s.records] == [0.02, 0.02, 0.01, 0.005, 0.0025]


def test_batch_size_set_after_full_batches_starts_the_next_epoch(tmp_path: Path) -> None:
    """Three full-batch epochs (0, 1, 2), then mini-batches: epoch 3 begins at batch 0."""
    s = Session()
    s.open(str(write(tmp_path / "mini.toml", MINI_BATCH_LINE)))
    s.set("batch_size", None)
    s.step(3)
    s.set("batch_size", 2)
    s.step(4)
    assert _epochs(s) == [0, 1, 2, 3, 3, 3, 4]
    assert [r.batch for r in s.records] == [None, None, None, 0, 1, 2, 0]
    assert [r.lr for r in s.records] == [0.02 * 0.5 ** e for e in (0, 1, 2, 3, 3, 3, 4)]


def test_a_change_mid_epoch_keeps_the_epochs_order_of_rows(tmp_path: Path) -> None:
    """Setting lr to the value it has, in the middle of epoch 1, changes no number: the epoch
    goes on with the rows it had not visited yet, and the next epoch's order is the one a run
    without the change draws."""
    path = write(tmp_path / "mini.toml", MINI_BATCH_LINE)
    changed, plain = Session(), Session()
    changed.open(str(path))
    plain.open(str(path))
    changed.step(4)  # epoch 0: batches 0-2; epoch 1: batch 0
    changed.set("lr", 0.02)
    changed.step(5)
    plain.step(9)
    same_records(changed.records, plain.records)


def test_replay_of_a_batch_size_change_gives_the_sessions_epochs(tmp_path: Path) -> None:
    s = Session()
    s.open(str(write(tmp_path / "mini.toml", MINI_BATCH_LINE)))
    s.step(2)
    s.set("batch_size", None)
    s.step(2)
    same_records(replay(s.actions).records, s.records)
