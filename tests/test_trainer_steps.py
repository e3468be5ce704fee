"""engine.train.Trainer: training stepped one mini-batch or one epoch at a time gives train()'s
records exactly; pauses between steps are not counted; the weights before each step are kept
for the explain panel (BP2 multiplies out with them)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import engine.train
from engine.kinds.network import NetworkScenario
from engine.models.explain import bp_terms
from engine.records import BatchRecord, EpochRecord, NetworkSummary
from engine.scenario import load_scenario
from engine.train import Trainer, train


def plain(rec: Any) -> Any:
    """A record's JSON without its clock (seconds differ between any two runs)."""
    d = rec.to_json()
    body = d.get("summary", d)
    if "seconds" in body:
        body["seconds"] = None
    return d


def setup(name: str, sets: list[str], variant: str | None = None) -> tuple[Any, ...]:
    sc = load_scenario(name, sets)
    assert isinstance(sc, NetworkScenario)
    v = variant or sc.default_variant()
    data = sc.dataset(v)
    return sc, v, data


def trainer(sc: NetworkScenario, v: str | None, data: Any) -> Trainer:
    return Trainer(sc.build_model(v, data), sc.config(v), data, scenario=sc.name, variant=v)


CASES = [
    # 250 points in batches of 10: 25 batches an epoch, a batch record every 7
    ("circle", ["run.epochs=3", "run.report_every=7"], None),
    # 1000 images in batches of 32: the last batch of each epoch has 8
    ("mnist_mlp", ["data.train_limit=1000", "run.epochs=2", "run.batch_size=32",
                   "run.report_every=5"], None),
    # early stopping: a learning rate so large that the loss goes up after epoch 1
    ("xor", ["run.epochs=50", "run.patience=1", "run.lr=2"], None),
    # divergence inside the first epoch (ReLU, softmax + cross-entropy, lr 1e8)
    ("mnist_mlp", ["data.train_limit=500", "run.epochs=3", "run.lr=1e8",
                   'model.activation="relu"', 'model.init="he"', 'model.output="softmax"',
                   'model.cost="cross_entropy"'], None),
]
STOPS = {"circle": "epochs", "xor": "early_stop"}


@pytest.mark.parametrize("name,sets,variant", CASES)
def test_stepping_by_batch_or_by_epoch_gives_trains_records(name: str, sets: list[str],
                                                            variant: str | None) -> None:
    sc, v, data = setup(name, sets, variant)
    whole = [plain(r) for r in train(sc.build_model(v, data), sc.config(v), data,
                                     scenario=sc.name, variant=v)]
    t = trainer(sc, v, data)
    by_batch = [plain(r) for r in t.begin()]
    steps = 0
    while not t.finished:
        by_batch += [plain(r) for r in t.step_batch()]
        steps += 1
    assert t.summary is not None
    assert by_batch + [plain(t.summary)] == whole
    assert t.summary.stop_reason == STOPS.get(name, "epochs" if "run.lr=1e8" not in sets
                                              else "diverged")
    assert t.step_batch() == [] and t.step_epoch() == ([], 0)  # nothing after the end
    s = t.summary
    # every batch taken was one step, the diverging one too
    expected = (s.epochs * t.batches_per_epoch + (s.diverged_batch or 0))
    assert steps == expected
    t2 = trainer(sc, v, data)
    by_epoch = [plain(r) for r in t2.begin()]
    while not t2.finished:
        recs, taken = t2.step_epoch()
        by_epoch += [plain(r) for r in recs]
        ends = [r for r in recs if isinstance(r, EpochRecord)]
        if not t2.finished:  # a whole epoch: its batches, then its record last
            assert taken == t2.batches_per_epoch and isinstance(recs[-1], EpochRecord)
            assert len(ends) == 1 and (t2.epoch, t2.batch) == (ends[0].epoch,
                                                               t2.batches_per_epoch)
    assert by_epoch + [plain(t2.summary)] == whole


def test_an_epochs_record_comes_with_its_last_batch_and_the_summary_with_the_last() -> None:
    sc, v, data = setup("circle", ["run.epochs=2", "run.report_every=1000"])
    t = trainer(sc, v, data)
    first = t.begin()
    assert [type(r) for r in first] == [EpochRecord] and first[0].epoch == 0
    assert t.begin() == []  # once
    for b in range(1, t.batches_per_epoch):
        assert t.step_batch() == [] and (t.epoch, t.batch) == (1, b)
    recs = t.step_batch()  # the 25th batch ends epoch 1
    assert [(type(r), r.epoch) for r in recs] == [(EpochRecord, 1)] and not t.finished
    for _ in range(t.batches_per_epoch - 1):
        t.step_batch()
    last = t.step_batch()
    assert [r.epoch for r in last] == [2] and t.finished
    assert isinstance(t.summary, NetworkSummary) and t.summary.epochs == 2


def test_step_epoch_stops_when_halted_and_goes_on_from_there() -> None:
    sc, v, data = setup("circle", ["run.epochs=2"])
    t = trainer(sc, v, data)
    t.begin()
    calls = []
    recs, taken = t.step_epoch(halt=lambda: len(calls) >= 4 or calls.append(1) is not None)
    assert taken == 5 and recs == [] and (t.epoch, t.batch) == (1, 5)
    recs, taken = t.step_epoch()
    assert taken == t.batches_per_epoch - 5 and [r.epoch for r in recs] == [1]


def test_a_pause_between_steps_is_not_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    """The trainer's clock only moves when the consumer moves it (100 s between two steps):
    the epoch's seconds, which leave the consumer out, stay 0."""
    clock = [0.0]
    monkeypatch.setattr(engine.train.time, "perf_counter", lambda: clock[0])
    sc, v, data = setup("circle", ["run.epochs=1", "run.report_every=3"])
    t = trainer(sc, v, data)
    t.begin()
    while not t.finished:
        t.step_batch()
        clock[0] += 100.0
    assert t.summary is not None and t.summary.seconds == 0.0


@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])
def test_detail_keeps_the_weights_before_each_step(optimizer: str) -> None:
    sets = ["run.epochs=1", f"run.optimizer={optimizer}", "run.lr=0.5",
            "model.layers=[2, 5, 3, 1]"] + (["run.momentum=0.9"] if optimizer != "sgd" else [])
    sc, v, data = setup("circle", sets)
    t = trainer(sc, v, data)
    t.detail = True
    t.begin()
    net = t.net
    for _ in range(3):
        t.step_batch()
    if optimizer == "sgd":  # w_after = w_before - lr dC/dw, so w_before = w_after + lr grad
        for l in range(1, net.L + 1):
            np.testing.assert_allclose(t.weights_before[l - 1],
                                       net.params[f"W{l}"] + 0.5 * net.grads[f"W{l}"],
                                       rtol=1e-12, atol=1e-15)
    # BP2 with those weights multiplies out: delta_j = (sum_k w_kj delta_k) * act'(z_j)
    for layer, neuron in ((1, 0), (1, 4), (2, 2)):
        terms = bp_terms(net, layer, neuron, 3, weights=t.weights_before)
        assert terms["delta"] == pytest.approx(terms["weighted_sum"] * terms["act_prime"],
                                               rel=1e-12, abs=1e-300)
        moved = bp_terms(net, layer, neuron, 3)  # the weights after the step do not
        assert not math.isclose(moved["weighted_sum"] * moved["act_prime"], terms["delta"],
                                rel_tol=1e-9)


def test_without_detail_no_weights_are_copied() -> None:
    sc, v, data = setup("circle", ["run.epochs=1"])
    t = trainer(sc, v, data)
    t.step_batch()
    assert t.weights_before == []
    assert any(isinstance(r, BatchRecord) for r in t.step_epoch()[0]) is False
