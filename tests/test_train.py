"""Training a network (engine/train.py) on MNIST images: the record stream, epoch 0, the speed
of learning of each layer, validation, early stopping, divergence, stopping, schedules,
determinism. The network is engine.models.dense.DenseNet, the data the "mnist" source."""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import engine.train
from engine.data.dataset import Dataset, hold_out
from engine.data.network_data import dataset_from_table
from engine.models.config import dense_config_from_table
from engine.models.dense import DenseNet
from engine.records import BatchRecord, EpochRecord, NetworkSummary
from engine.run import RunConfig
from engine.train import SPEED_EXAMPLES, train


@pytest.fixture(scope="module")
def mnist() -> Dataset:
    """2000 training and 1000 test images of real MNIST (the bundled subset or a full copy)."""
    return dataset_from_table({"source": "mnist", "train_limit": 2000, "test_limit": 1000},
                              Path("."), "t.toml")


def small(n: int, data: Dataset) -> Dataset:
    return replace(data, X_train=data.X_train[:n], y_train=data.y_train[:n],
                   X_test=data.X_test[:200], y_test=data.y_test[:200])


def MLP(model: dict[str, Any], n_train: int | None = None) -> DenseNet:
    """The MNIST network ``model`` describes, as the network kind builds it (float32 from the
    data source, pixels scaled by its 1/255)."""
    return DenseNet(dense_config_from_table(model, "t.toml"), dtype=np.float32,
                    n_train=n_train, input_scale=1 / 255)


def cfg(**kw: object) -> RunConfig:
    base: dict = {"optimizer": "sgd", "lr": 0.5, "batch_size": 10, "epochs": 1, "seed": 1,
                  "report_every": 50}
    return RunConfig(**{**base, **kw})


def split(records: list) -> tuple[list[BatchRecord], list[EpochRecord], NetworkSummary]:
    assert isinstance(records[-1], NetworkSummary)
    assert not any(isinstance(r, NetworkSummary) for r in records[:-1])
    return ([r for r in records if isinstance(r, BatchRecord)],
            [r for r in records if isinstance(r, EpochRecord)], records[-1])


CE = {"layers": [784, 100, 10], "output": "softmax", "cost": "cross_entropy", "init": "scaled"}
QUAD = {"layers": [784, 30, 10], "output": "sigmoid", "cost": "quadratic", "init": "normal"}


def test_one_epoch_on_2000_images_learns(mnist: Dataset) -> None:
    start_time = time.perf_counter()
    batches, epochs, summary = split(list(train(MLP(CE), cfg(), mnist)))
    wall = time.perf_counter() - start_time
    assert [(b.epoch, b.batch, b.lr) for b in batches] == [(1, 50, 0.5), (1, 100, 0.5),
                                                          (1, 150, 0.5), (1, 200, 0.5)]
    assert all(np.isfinite(b.loss) for b in batches)
    start, e = epochs
    assert start.epoch == 0 and start.seconds == 0.0 and start.lr == 0.5
    assert start.test_accuracy < 0.25  # an untrained network: about chance (0.1)
    assert e.epoch == 1 and e.test_accuracy > 0.7 and e.train_accuracy > 0.75
    assert e.train_loss < start.train_loss and e.test_loss < start.test_loss
    assert e.lr == 0.5 and 0 < e.seconds < wall  # the epoch's training, within the whole call
    assert summary.stop_reason == "epochs" and summary.epochs == 1 and summary.message == ""
    assert (summary.final_test_accuracy, summary.final_test_loss) == \
        (e.test_accuracy, e.test_loss)
    assert (summary.final_train_accuracy, summary.final_train_loss) == \
        (e.train_accuracy, e.train_loss)
    assert summary.seconds == e.seconds
    assert [s["layer"] for s in e.layer_stats] == [1, 2]


def test_epoch_0_is_the_untrained_network(mnist: Dataset) -> None:
    data = small(500, mnist)
    first = next(iter(train(MLP(QUAD), cfg(), data)))
    fresh = MLP(QUAD)  # the same seed: the same initial weights
    assert isinstance(first, EpochRecord) and first.epoch == 0
    assert (first.train_loss, first.train_accuracy) == fresh.evaluate(data.X_train, data.y_train)
    assert (first.test_loss, first.test_accuracy) == fresh.evaluate(data.X_test, data.y_test)


def _cost64(net: DenseNet, X: np.ndarray, y: np.ndarray, params: dict) -> float:
    """Mean quadratic cost of a sigmoid network in float64, written out independently."""
    a = X.astype(np.float64) / 255.0
    for l in range(1, net.L + 1):
        a = 1.0 / (1.0 + np.exp(-(a @ params[f"W{l}"].T + params[f"b{l}"])))
    onehot = np.eye(net.sizes[-1])[y]
    return float(0.5 * np.sum((a - onehot) ** 2) / len(y))


def test_layer_grad_norm_is_the_bias_gradient_norm_by_finite_differences(mnist: Dataset) -> None:
    """||dC/db_l|| over the first 1,000 training examples (Nielsen's speed of learning),
    checked against central differences of the mean cost in float64."""
    net = MLP(QUAD)
    first = next(iter(train(net, cfg(), mnist)))
    X, y = mnist.X_train[:SPEED_EXAMPLES], mnist.y_train[:SPEED_EXAMPLES].astype(np.intp)
    params = {k: v.astype(np.float64) for k, v in MLP(QUAD).params.items()}
    h = 1e-5
    for l, speed in enumerate(first.layer_grad_norm, start=1):
        b = params[f"b{l}"]
        grad = np.zeros_like(b)
        for i in range(b.size):
            old = b[i]
            b[i] = old + h
            up = _cost64(net, X, y, params)
            b[i] = old - h
            down = _cost64(net, X, y, params)
            b[i] = old
            grad[i] = (up - down) / (2 * h)
        assert speed == pytest.approx(float(np.linalg.norm(grad)), rel=1e-3), l
    assert len(first.layer_grad_norm) == 2


def test_the_speed_is_measured_at_the_end_of_each_epoch(mnist: Dataset) -> None:
    net = MLP(CE)
    records = list(train(net, cfg(epochs=2), small(500, mnist)))
    _, epochs, _ = split(records)
    # after training, the same 500 examples (fewer than 1,000: all of them) give the last value
    net.backward(small(500, mnist).X_train, small(500, mnist).y_train.astype(np.intp))
    assert epochs[-1].layer_grad_norm == tuple(float(np.linalg.norm(net.gb[l]))
                                               for l in (1, 2))
    assert epochs[0].layer_grad_norm != epochs[-1].layer_grad_norm


def test_records_serialise_with_the_shared_keys(mnist: Dataset) -> None:
    records = list(train(MLP(CE), cfg(batch_size=100, report_every=5), small(1000, mnist),
                         scenario="s", variant="v"))
    batches, epochs, summary = split(records)
    assert list(batches[0].to_json()) == ["epoch", "batch", "loss", "lr"]
    assert list(epochs[0].to_json()) == ["epoch", "train_loss", "test_loss", "train_accuracy",
                                         "test_accuracy", "lr", "seconds", "layer_grad_norm"]
    assert list(summary.to_json()["summary"]) == [
        "scenario", "variant", "data", "stop_reason", "epochs", "final_train_loss",
        "final_test_loss", "final_train_accuracy", "final_test_accuracy", "seconds",
        "diverged_epoch", "diverged_batch", "message"]
    assert summary.to_json()["summary"]["scenario"] == "s"
    assert summary.to_json()["summary"]["final_test_accuracy"] == epochs[-1].test_accuracy


def test_validation_set_is_reported_and_watched(mnist: Dataset) -> None:
    data = hold_out(small(1000, mnist), 300, "t.toml: [data] key 'validation'")
    assert len(data.X_train) == 700 and len(data.X_val) == 300
    np.testing.assert_array_equal(data.X_val, mnist.X_train[700:1000])
    net = MLP(CE)
    _, epochs, summary = split(list(train(net, cfg(epochs=2), data)))
    keys = list(epochs[0].to_json())
    assert keys[5:7] == ["validation_loss", "validation_accuracy"]
    loss, acc = net.evaluate(data.X_val, data.y_val)
    assert (epochs[-1].validation_loss, epochs[-1].validation_accuracy) == (loss, acc)
    assert (summary.final_validation_loss, summary.final_validation_accuracy) == (loss, acc)


def test_early_stopping_watches_the_validation_loss(mnist: Dataset) -> None:
    """lr = 0: the weights never change, so the watched loss never improves on epoch 0's."""
    data = hold_out(small(500, mnist), 100, "t.toml: [data] key 'validation'")
    _, epochs, summary = split(list(train(MLP(CE), cfg(lr=0.0, epochs=10, patience=3), data)))
    assert [e.epoch for e in epochs] == [0, 1, 2, 3]
    assert len({e.validation_loss for e in epochs}) == 1
    assert summary.stop_reason == "early_stop" and summary.epochs == 3
    assert summary.message.startswith("the validation loss has not improved for 3 epochs "
                                      "(best ")
    assert summary.message.endswith("at epoch 0)")
    # without a validation set, the training loss is watched (never the test set)
    _, _, s2 = split(list(train(MLP(CE), cfg(lr=0.0, epochs=10, patience=1),
                                small(500, mnist))))
    assert s2.stop_reason == "early_stop" and s2.epochs == 1
    assert s2.message.startswith("the training loss has not improved for 1 epoch (best ")


def test_patience_does_not_stop_a_run_that_keeps_improving(mnist: Dataset) -> None:
    _, epochs, summary = split(list(train(MLP(CE), cfg(epochs=3, patience=1),
                                          small(1000, mnist))))
    losses = [e.train_loss for e in epochs]
    assert losses == sorted(losses, reverse=True)  # each epoch improved on the last
    assert summary.stop_reason == "epochs" and summary.epochs == 3


def test_training_is_deterministic_for_a_seed(mnist: Dataset) -> None:
    data = small(600, mnist)

    def run(model_seed: int, seed: int = 1) -> list[dict]:
        net = MLP({"layers": [784, 16, 10], "activation": "tanh", "cost": "cross_entropy",
                   "init": "scaled", "l2": 0.06, "seed": model_seed}, n_train=600)
        c = cfg(optimizer="momentum", lr=0.1, hyper={"momentum": 0.9}, batch_size=32,
                epochs=2, seed=seed, report_every=4)
        return [{k: v for k, v in r.to_json().items() if "seconds" not in k}
                for r in train(net, c, data) if not isinstance(r, NetworkSummary)]

    first = run(1)
    assert first == run(1)
    assert first != run(2)
    assert first != run(1, seed=99)


def test_an_absurd_learning_rate_diverges_without_crashing(mnist: Dataset) -> None:
    net = MLP({"layers": [784, 30, 10], "activation": "relu", "cost": "cross_entropy",
               "init": "he"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning (overflow, invalid) escapes either
        records = list(train(net, cfg(lr=1e8, epochs=3, report_every=1000), small(1000, mnist)))
    batches, epochs, summary = split(records)
    assert summary.stop_reason == "diverged" and summary.epochs == 0
    assert [e.epoch for e in epochs] == [0]
    assert summary.diverged_epoch == 1 and 1 <= summary.diverged_batch < 100
    assert batches[-1].batch == summary.diverged_batch and not np.isfinite(batches[-1].loss)
    assert summary.message == (f"the loss became NaN or infinite at epoch 1, batch "
                               f"{summary.diverged_batch}: try a smaller learning rate")
    text = json.dumps(summary.to_json(), allow_nan=False)  # strict JSON: NaN written as null
    assert json.loads(text)["summary"]["diverged_batch"] == summary.diverged_batch
    json.dumps(batches[-1].to_json(), allow_nan=False)


def test_should_stop_ends_the_run(mnist: Dataset) -> None:
    seen: list = []
    records = []
    for r in train(MLP(CE), cfg(epochs=5, report_every=20), mnist,
                   should_stop=lambda: len(seen) >= 3):
        records.append(r)
        if isinstance(r, BatchRecord):
            seen.append(r)
    batches, epochs, summary = split(records)
    assert summary.stop_reason == "stopped" and [e.epoch for e in epochs] == [0]
    assert len(batches) == 3 and summary.epochs == 0 and 0 < summary.final_test_accuracy <= 1


def test_closing_the_generator_stops_it(mnist: Dataset) -> None:
    gen = train(MLP(CE), cfg(epochs=50, report_every=10), mnist)
    assert isinstance(next(gen), EpochRecord)  # epoch 0
    assert isinstance(next(gen), BatchRecord)
    gen.close()
    with pytest.raises(StopIteration):
        next(gen)


def test_epoch_seconds_exclude_the_consumer(mnist: Dataset,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The trainer's clock is replaced by one that only the consumer moves (1 s per batch
    record it reads): the epoch's seconds, which must leave the consumer out, stay 0."""
    clock = [0.0]
    monkeypatch.setattr(engine.train.time, "perf_counter", lambda: clock[0])
    epoch = None
    for r in train(MLP(CE), cfg(report_every=10), small(500, mnist)):
        if isinstance(r, BatchRecord):
            clock[0] += 1.0  # 5 reports: 5 s of the consumer's time
        elif isinstance(r, EpochRecord) and r.epoch == 1:
            epoch = r
    assert clock[0] == 5.0
    assert epoch is not None and epoch.seconds == 0.0


def test_learning_rate_schedule_and_partial_batches(mnist: Dataset) -> None:
    c = cfg(lr=1.0, batch_size=128, epochs=4, schedule="step", step_size=2, gamma=0.5,
            report_every=4)
    batches, epochs, _ = split(list(train(MLP(CE), c, small(1000, mnist))))
    assert [e.lr for e in epochs] == [1.0, 1.0, 1.0, 0.5, 0.5]  # epoch 0: the first epoch's
    assert [b.batch for b in batches if b.epoch == 1] == [4, 8]  # 8 batches: 7 x 128 + 104
    assert {b.lr for b in batches if b.epoch >= 3} == {0.5}


def test_layers_that_do_not_fit_are_refused(mnist: Dataset) -> None:
    with pytest.raises(ValueError, match="do not fit 784 inputs"):
        next(train(MLP({"layers": [100, 10]}), cfg(), mnist))
    with pytest.raises(ValueError, match="labels up to 9"):
        next(train(MLP({"layers": [784, 1], "output": "sigmoid"}), cfg(), mnist))


def test_one_output_takes_labels_0_and_1(mnist: Dataset) -> None:
    """n_out = 1 separates two classes: labels 0 and 1 fit it (a sigmoid output)."""
    keep = mnist.y_train < 2
    data = replace(mnist, X_train=mnist.X_train[keep], y_train=mnist.y_train[keep],
                   X_test=mnist.X_test[mnist.y_test < 2], y_test=mnist.y_test[mnist.y_test < 2])
    _, epochs, summary = split(list(train(MLP({"layers": [784, 1], "output": "sigmoid"}),
                                          cfg(epochs=1), data)))
    assert summary.stop_reason == "epochs" and epochs[-1].test_accuracy > 0.95  # 0 vs 1
