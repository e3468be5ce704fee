"""Training the MNIST MLP: records, determinism, divergence, stopping, settings, scenarios."""

from __future__ import annotations

import time
import tomllib
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from engine.data.mnist import load_mnist
from engine.errors import ScenarioError
from engine.mlp import MLP, MLPConfig, mlp_config_from_table
from engine.mlp_train import (
    BatchRecord,
    EpochRecord,
    TrainSettings,
    TrainSummary,
    train,
    train_settings_from_table,
)

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.fixture(scope="module")
def mnist() -> SimpleNamespace:
    """2000 training and 1000 test images of real MNIST (the bundled subset or a full copy)."""
    d = load_mnist(train_limit=2000, test_limit=1000)
    return SimpleNamespace(train_images=d.train_images, train_labels=d.train_labels,
                           test_images=d.test_images, test_labels=d.test_labels)


def small(n: int, data: SimpleNamespace) -> SimpleNamespace:
    return SimpleNamespace(train_images=data.train_images[:n], train_labels=data.train_labels[:n],
                           test_images=data.test_images[:200], test_labels=data.test_labels[:200])


def split(records: list) -> tuple[list[BatchRecord], list[EpochRecord], TrainSummary]:
    assert isinstance(records[-1], TrainSummary)
    assert not any(isinstance(r, TrainSummary) for r in records[:-1])
    return ([r for r in records if isinstance(r, BatchRecord)],
            [r for r in records if isinstance(r, EpochRecord)], records[-1])


CE = MLPConfig([784, 100, 10], "sigmoid", "cross_entropy", "scaled", 0.0, 1)


def test_one_epoch_on_2000_images_learns(mnist: SimpleNamespace) -> None:
    assert mnist.train_images.shape == (2000, 784) and mnist.train_images.dtype == np.uint8
    before = MLP(CE).accuracy(mnist.test_images, mnist.test_labels)
    settings = TrainSettings("sgd", 0.5, {}, 10, 1, report_every=50)
    batches, epochs, summary = split(list(train(CE, settings, mnist)))
    assert before < 0.25
    assert [(b.epoch, b.batch) for b in batches] == [(1, 50), (1, 100), (1, 150), (1, 200)]
    assert all(np.isfinite(b.loss) for b in batches)
    (e,) = epochs
    assert e.test_accuracy > 0.7 and e.train_accuracy > 0.75  # chance is 0.1
    assert e.train_loss < 0.8 and e.lr == 0.5 and 0 < e.seconds < 5
    assert summary.stop_reason == "epochs" and summary.epochs == 1
    assert summary.final_test_accuracy == e.test_accuracy
    assert summary.final_train_accuracy == e.train_accuracy
    assert summary.total_seconds == e.seconds
    assert [s["layer"] for s in e.layer_stats] == [1, 2]


def test_books_first_network_learns_with_quadratic_cost(mnist: SimpleNamespace) -> None:
    cfg = MLPConfig([784, 30, 10], "sigmoid", "quadratic", "normal", 0.0, 1)
    records = list(train(cfg, TrainSettings("sgd", 3.0, {}, 10, 2, report_every=10**6), mnist))
    batches, epochs, summary = split(records)
    assert batches == [] and len(epochs) == 2
    assert summary.final_test_accuracy > 0.4  # chance is 0.1; 400 steps from N(0, 1) weights


def test_records_serialise_with_the_agreed_keys(mnist: SimpleNamespace) -> None:
    records = list(train(CE, TrainSettings("sgd", 0.5, {}, 100, 1, report_every=5),
                         small(1000, mnist)))
    batches, epochs, summary = split(records)
    assert list(batches[0].to_json()) == ["epoch", "batch", "loss"]
    assert list(epochs[0].to_json()) == ["epoch", "train_loss", "train_accuracy",
                                         "test_accuracy", "seconds", "lr"]
    assert list(summary.to_json()) == ["stop_reason", "epochs", "final_test_accuracy",
                                       "final_train_accuracy", "total_seconds",
                                       "diverged_epoch", "diverged_batch"]


def test_training_is_deterministic_for_a_seed(mnist: SimpleNamespace) -> None:
    data = small(600, mnist)
    settings = TrainSettings("momentum", 0.1, {"momentum": 0.9}, 32, 2, report_every=4)

    def run(seed: int, shuffle: int | None = None) -> list[dict]:
        cfg = MLPConfig([784, 16, 10], "tanh", "cross_entropy", "scaled", 1e-4, seed)
        s = TrainSettings(**{**settings.__dict__, "shuffle_seed": shuffle})
        return [{k: v for k, v in r.to_json().items() if "seconds" not in k}
                for r in train(cfg, s, data)]

    first = run(1)
    assert first == run(1)
    assert first != run(2)
    assert first != run(1, shuffle=99)


def test_an_absurd_learning_rate_diverges_without_crashing(mnist: SimpleNamespace) -> None:
    cfg = MLPConfig([784, 30, 10], "relu", "cross_entropy", "he", 0.0, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning (overflow, invalid) escapes either
        records = list(train(cfg, TrainSettings("sgd", 1e8, {}, 10, 3, report_every=1000),
                             small(1000, mnist)))
    batches, epochs, summary = split(records)
    assert summary.stop_reason == "diverged" and summary.epochs == 0 and epochs == []
    assert summary.diverged_epoch == 1 and 1 <= summary.diverged_batch < 100
    assert batches[-1].batch == summary.diverged_batch and not np.isfinite(batches[-1].loss)
    assert summary.to_json()["diverged_batch"] == summary.diverged_batch


def test_should_stop_ends_the_run(mnist: SimpleNamespace) -> None:
    seen: list = []
    records = []
    for r in train(CE, TrainSettings("sgd", 0.5, {}, 10, 5, report_every=20), mnist,
                   should_stop=lambda: len(seen) >= 3):
        records.append(r)
        if isinstance(r, BatchRecord):
            seen.append(r)
    batches, epochs, summary = split(records)
    assert summary.stop_reason == "stopped" and epochs == [] and len(batches) == 3
    assert summary.epochs == 0 and 0 < summary.final_test_accuracy <= 1


def test_closing_the_generator_stops_it(mnist: SimpleNamespace) -> None:
    gen = train(CE, TrainSettings("sgd", 0.5, {}, 10, 50, report_every=10), mnist)
    assert isinstance(next(gen), BatchRecord)
    gen.close()
    with pytest.raises(StopIteration):
        next(gen)


def test_epoch_seconds_exclude_the_consumer(mnist: SimpleNamespace) -> None:
    data = small(500, mnist)
    epoch = None
    for r in train(CE, TrainSettings("sgd", 0.5, {}, 10, 1, report_every=10), data):
        if isinstance(r, BatchRecord):
            time.sleep(0.05)  # 5 reports: 0.25 s of the consumer's time
        elif isinstance(r, EpochRecord):
            epoch = r
    assert epoch is not None and epoch.seconds < 0.2


def test_learning_rate_schedule_and_partial_batches(mnist: SimpleNamespace) -> None:
    settings = TrainSettings("sgd", 1.0, {}, 128, 4, schedule="step", step_size=2, gamma=0.5,
                             report_every=4)
    batches, epochs, _ = split(list(train(CE, settings, small(1000, mnist))))
    assert [e.lr for e in epochs] == [1.0, 1.0, 0.5, 0.5]
    assert [b.batch for b in batches if b.epoch == 1] == [4, 8]  # 8 batches: 7 x 128 + 104


def test_layers_must_fit_the_data(mnist: SimpleNamespace) -> None:
    with pytest.raises(ScenarioError, match="does not fit the data: 784 inputs"):
        next(train(MLPConfig([100, 10]), TrainSettings(), mnist))


# --- the [run] table and the scenario files -----------------------------------------------


def test_settings_from_table() -> None:
    s = train_settings_from_table({"optimizer": "adam", "lr": 0.001, "betas": [0.8, 0.9],
                                   "batch_size": 32, "epochs": 3, "schedule": "exponential",
                                   "gamma": 0.9, "report_every": 7, "shuffle_seed": 4}, "x.toml")
    assert s == TrainSettings("adam", 0.001, {"betas": [0.8, 0.9]}, 32, 3, "exponential", 1, 0.9,
                              4, 7)


@pytest.mark.parametrize(("table", "message"), [
    ({"optimizer": "lbfgs"}, "x.toml: [run] key 'optimizer': expected one of 'sgd', 'momentum', "
     "'nesterov', 'adagrad', 'rmsprop', 'adam', got 'lbfgs'"),
    ({"lr": 0}, "x.toml: [run] key 'lr': expected a number > 0.0, got 0"),
    ({"lr": "fast"}, "x.toml: [run] key 'lr': expected a number > 0.0, got 'fast'"),
    ({"batch_size": 0}, "x.toml: [run] key 'batch_size': expected an integer >= 1, got 0"),
    ({"epochs": 2.5}, "x.toml: [run] key 'epochs': expected an integer >= 1, got 2.5"),
    ({"schedule": "cosine"}, "x.toml: [run] key 'schedule': expected one of 'constant', 'step', "
     "'exponential', got 'cosine'"),
    ({"betas": [0.9, 0.99]}, "x.toml: [run] key 'betas': unknown key for optimizer 'sgd'"),
    ({"optimizer": "nesterov", "momentum": 0.0}, "x.toml: [run] optimizer 'nesterov': nesterov "
     "momentum requires a momentum > 0"),
])
def test_settings_errors(table: dict, message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        train_settings_from_table(table, "x.toml")
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("name", ["mnist_mlp", "mnist_mlp_ce"])
def test_scenario_files_are_valid_with_every_variant(name: str) -> None:
    path = SCENARIOS / f"{name}.toml"
    doc = tomllib.loads(path.read_text())
    assert doc["scenario"]["name"] == name and doc["data"]["source"] == "mnist"
    cfg = mlp_config_from_table(doc["model"], path.name)
    assert cfg.layers[0] == 784 and cfg.layers[-1] == 10
    assert len(doc["variants"]) >= 4
    for variant in [{}, *doc["variants"].values()]:
        train_settings_from_table({**doc["run"], **variant}, path.name)
    if name == "mnist_mlp":
        assert (cfg.layers, cfg.activation, cfg.cost, cfg.init) == (
            [784, 30, 10], "sigmoid", "quadratic", "normal")
        assert (doc["run"]["lr"], doc["run"]["batch_size"], doc["run"]["epochs"]) == (3.0, 10, 30)
    else:
        assert (cfg.layers, cfg.cost, cfg.init) == ([784, 100, 10], "cross_entropy", "scaled")
