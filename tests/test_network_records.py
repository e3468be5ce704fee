"""The network kind's records on small problems, as `gdlab run --format jsonl` writes them: a
regression has no accuracy keys, a validation set adds its keys, and the three ways a run stops
(epochs, early_stop with run.patience, diverged with its epoch and batch)."""

from __future__ import annotations

import json

import pytest

from tui.cli import main


def jsonl(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[list[dict], dict]:
    assert main(["run", *argv, "--format", "jsonl"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    epochs = [d for d in lines if "train_loss" in d]
    return epochs, lines[-1]["summary"]


def test_a_regression_has_no_accuracy_keys(capsys: pytest.CaptureFixture[str]) -> None:
    epochs, summary = jsonl(capsys, "sin_fit", "--set", "run.epochs=2")
    assert [d["epoch"] for d in epochs] == [0, 1, 2]
    assert list(epochs[1]) == ["epoch", "train_loss", "test_loss", "lr", "seconds",
                               "layer_grad_norm"]
    assert not any("accuracy" in k for k in summary)
    assert summary["final_test_loss"] == epochs[-1]["test_loss"]
    assert summary["stop_reason"] == "epochs" and summary["epochs"] == 2


def test_a_validation_set_adds_its_keys(capsys: pytest.CaptureFixture[str]) -> None:
    epochs, summary = jsonl(capsys, "circle", "--set", "run.epochs=2", "--set",
                            "data.validation=50")
    assert list(epochs[0]) == ["epoch", "train_loss", "test_loss", "train_accuracy",
                               "test_accuracy", "validation_loss", "validation_accuracy", "lr",
                               "seconds", "layer_grad_norm"]
    assert summary["final_validation_accuracy"] == epochs[-1]["validation_accuracy"]
    assert "50 of the 250 training examples are held out, 200 train" in summary["data"]


def test_patience_stops_early_on_the_watched_loss(capsys: pytest.CaptureFixture[str]) -> None:
    """lr = 0: the weights never change, so the loss never improves on epoch 0's."""
    epochs, summary = jsonl(capsys, "xor", "--set", "run.lr=0", "--set", "run.patience=2",
                            "--set", "data.validation=50")
    assert [d["epoch"] for d in epochs] == [0, 1, 2]
    assert summary["stop_reason"] == "early_stop" and summary["epochs"] == 2
    assert summary["message"].startswith("the validation loss has not improved for 2 epochs")


def test_divergence_names_its_epoch_and_batch(capsys: pytest.CaptureFixture[str]) -> None:
    epochs, summary = jsonl(capsys, "sin_fit", "--variant", "relu_10", "--set",
                            'run.optimizer="sgd"', "--set", "run.lr=1e30")
    assert summary["stop_reason"] == "diverged" and summary["epochs"] == 0
    assert summary["diverged_epoch"] == 1 and summary["diverged_batch"] >= 1
    assert summary["message"] == (f"the loss became NaN or infinite at epoch 1, batch "
                                  f"{summary['diverged_batch']}: try a smaller learning rate")
    assert [d["epoch"] for d in epochs] == [0]


def test_regularisation_counts_the_examples_left_after_validation() -> None:
    """n in (lambda/2n) sum w^2 is the training-set size once the validation set is held out."""
    from engine.kinds.network import NetworkScenario
    from engine.scenario import load_scenario

    sc = load_scenario("circle", ["model.l2=1.0", "data.validation=50"])
    assert isinstance(sc, NetworkScenario)
    data = sc.dataset("playground")
    net = sc.build_model("playground", data)
    assert net.n_train == len(data.y_train) == 250 - 50
    w = sum(float((net.params[f"W{l}"] ** 2).sum()) for l in (1, 2, 3))
    assert net.penalty() == pytest.approx(1.0 / (2 * 200) * w, rel=1e-12)
