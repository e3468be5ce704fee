"""`gdlab run` on an MLP scenario: JSONL keys, table, CSV, --out, divergence, on the bundled subset."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.mlp_train import EpochRecord, TrainSummary
from tui import mlp_cli
from tui.cli import main

FAST = ["--set", "run.epochs=1", "--set", "data.train_limit=2000", "--set", "run.report_every=50"]


@pytest.fixture(autouse=True)
def bundled_subset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Make load_mnist fall back to the bundled subset: no $GDLAB_MNIST_DIR, an empty cache."""
    monkeypatch.delenv("GDLAB_MNIST_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_jsonl_keys_and_accuracy(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "mnist_mlp", *FAST, "--format", "jsonl"]) == 0
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    batches = [d for d in lines if "batch" in d]
    epochs = [d for d in lines if "train_loss" in d]
    assert len(batches) == 4  # 2000 / 10 = 200 batches, one record every 50
    assert all(set(d) == {"epoch", "batch", "loss"} for d in batches)
    assert len(epochs) == 1
    assert {"epoch", "train_loss", "train_accuracy", "test_accuracy", "seconds"} <= set(epochs[0])
    summary = lines[-1]["summary"]
    assert summary["stop_reason"] == "epochs" and summary["epochs"] == 1
    assert summary["final_test_accuracy"] > 0.25  # chance is 0.10
    assert summary["final_test_accuracy"] == epochs[0]["test_accuracy"]
    assert "bundled subset" in err and "bundled subset" in summary["data"]


def test_table_prints_one_row_per_epoch(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["run", "mnist_mlp", "--set", "run.epochs=2", "--set", "data.train_limit=1000"]
    assert main(args) == 0
    out, _ = capsys.readouterr()
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:1] == ["epoch"])
    assert "test acc" in lines[header] and "lr" in lines[header]
    rows = lines[header + 2 : header + 4]
    assert [r.split()[0] for r in rows] == ["1", "2"]
    assert "stopped: epochs after 2 epochs" in lines[-1]


def test_out_csv_written_atomically(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "epochs.csv"
    assert main(["run", "mnist_mlp", *FAST, "--format", "csv", "--out", str(out)]) == 0
    assert capsys.readouterr().out == ""
    lines = out.read_text().splitlines()
    assert lines[0] == "epoch,train_loss,train_accuracy,test_accuracy,seconds,lr"
    assert len(lines) == 2 and lines[1].startswith("1,")
    assert main(["run", "mnist_mlp", *FAST, "--out", str(out)]) == 2  # exists, no --force
    assert "already exists" in capsys.readouterr().err


def test_plot_draws_charts_after_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "mnist_mlp", "--set", "run.epochs=2", "--set", "data.train_limit=500",
                 "--plot"]) == 0
    out = capsys.readouterr().out
    assert out.index("stopped:") < out.index("training loss per epoch")
    assert "accuracy per epoch" in out and "\x1b[" not in out


def _fake_train(*records: object) -> object:
    def fake(config: object, settings: object, data: object, **kw: object) -> object:
        yield from records

    return fake


def test_divergence_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    nan = float("nan")
    monkeypatch.setattr(mlp_cli, "train", _fake_train(
        EpochRecord(1, 0.3, 0.5, 0.5, 0.1, 3.0),
        TrainSummary("diverged", 1, 0.1, 0.1, 0.2, diverged_epoch=2, diverged_batch=7),
    ))
    assert main(["run", "mnist_mlp", *FAST, "--format", "jsonl"]) == 0
    out, err = capsys.readouterr()
    summary = json.loads(out.splitlines()[-1])["summary"]
    assert summary["stop_reason"] == "diverged" and summary["diverged_batch"] == 7
    assert "diverged at epoch 2, batch 7" in err
    monkeypatch.setattr(mlp_cli, "train", _fake_train(
        EpochRecord(1, nan, 0.1, 0.1, 0.1, 3.0),
        TrainSummary("diverged", 1, nan, nan, 0.2, diverged_epoch=1, diverged_batch=200),
    ))
    assert main(["run", "mnist_mlp", *FAST, "--format", "jsonl"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["train_loss"] is None  # NaN written as null: still valid JSON
    assert main(["run", "mnist_mlp", *FAST]) == 0
    assert "nan" in capsys.readouterr().out


def test_stop_request_prints_epochs_done(monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """A stopped run (what the first Ctrl-C asks for) keeps its epochs and exits 130."""
    real_train = mlp_cli.train

    def stop_after_first_epoch(config: object, settings: object, data: object,
                               should_stop: object = None, **kw: object) -> object:
        done = []
        gen = real_train(config, settings, data, should_stop=lambda: bool(done))
        for rec in gen:
            if isinstance(rec, EpochRecord):
                done.append(rec)
            yield rec

    monkeypatch.setattr(mlp_cli, "train", stop_after_first_epoch)
    args = ["run", "mnist_mlp", "--set", "run.epochs=5", "--set", "data.train_limit=1000"]
    assert main(args) == 130
    out = capsys.readouterr().out
    assert "stopped: interrupted after 1 epoch;" in out
