"""The network kind: a dense network of any shape trained with mini-batches, a record per epoch.

Tables: [model] (the network: engine.models.config), [data] (its data: engine.data.network_data,
any registered source) and [run] (the shared run configuration plus report_every and patience).
Variants may change any key of the three (``[variants.big.model] layers = [784, 100, 10]``).

Validation builds each variant's data without its images (MNIST's shape only; the small sources
in full, they cost milliseconds) and checks that the layers fit it, so that a scenario that loads
is one that runs. ``check`` also loads the images. The record stream is ``engine.train.train``
on an ``engine.models.dense.DenseNet``:

    ds = dataset(...);  cfg = DenseConfig from [model] (regression if the data are)
    check_network_fits(ds, cfg.layers, cfg.regression)
    net = DenseNet(cfg, dtype=cfg.dtype or ds.dtype, n_train=len(ds.y_train),
                   input_scale=ds.input_scale)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ScenarioError
from ..limits import MAX_ACTIVATIONS
from ..records import BatchRecord, EpochRecord, NetworkSummary
from ..run import SHARED_KEYS, RunConfig, run_config
from .base import FLAT_TABLE, SECONDS, Kind, Metric, Probe, Scenario

if TYPE_CHECKING:  # the network and its data are imported when a network scenario is read
    from ..data.dataset import Dataset
    from ..models.config import DenseConfig
    from ..models.dense import DenseNet

RUN_KEYS = ("report_every", "shuffle_seed", "patience", *SHARED_KEYS)
#: what a network's [run] leaves out (seed: None means the model's seed)
DEFAULTS = {"lr": 3.0, "batch_size": 10, "epochs": 30, "seed": None, "report_every": 500}
#: what a sweep can report of a network run
METRICS = (
    Metric("final_test_accuracy", "test accuracy of the final weights", best="max"),
    Metric("final_train_accuracy", "training accuracy of the final weights", best="max"),
    Metric("final_test_loss", "mean test cost of the final weights"),
    Metric("final_train_loss", "mean training cost of the final weights"),
    Metric("final_validation_loss", "mean validation cost of the final weights"),
    Metric("final_validation_accuracy", "validation accuracy of the final weights", best="max"),
    Metric("best_test_accuracy", "the best test accuracy of any epoch", best="max"),
    Metric("epochs", "the epochs completed (fewer: stopped early)", best=None),
    Metric("epochs_to", "the first epoch whose test accuracy is >= ACC (a fraction, e.g. 0.9)",
           arg="ACC"),
    SECONDS,
)
ACCURACY_METRICS = ("final_test_accuracy", "final_train_accuracy", "final_validation_accuracy",
                    "best_test_accuracy", "epochs_to")  # none for a regression
VALIDATION_METRICS = ("final_validation_loss", "final_validation_accuracy")


def _key(table: dict[str, Any]) -> str:
    """A table as a dictionary key (its values are TOML values: repr is exact)."""
    return repr(sorted(table.items()))


@dataclass
class NetworkScenario(Scenario):
    """A network scenario: [model], [data] and [run], each variant a change of any of them."""

    #: each distinct [data] built without MNIST's images (what validation and the model read)
    _shapes: dict[str, Dataset] = field(default_factory=dict, init=False, repr=False,
                                        compare=False)

    @property
    def label(self) -> str:
        return "network"

    @property
    def base_dir(self) -> Path:
        """The folder [data] paths are relative to: the scenario's own."""
        return self.path.parent if self.path is not None else Path.cwd()

    def dataset(self, variant: str | None = None, *, load: bool = True) -> Dataset:
        """``variant``'s data, built from its [data] (``load=False``: MNIST without its images,
        every other source in full), validation examples held out."""
        from ..data.network_data import dataset_from_table

        if not load:
            key = _key(self.table("data", variant))
            if key not in self._shapes:
                self._shapes[key] = dataset_from_table(
                    self.table("data", variant), self.base_dir, self.source, load=False,
                    where=self.where("data", variant))
            return self._shapes[key]
        return dataset_from_table(self.table("data", variant), self.base_dir, self.source,
                                  where=self.where("data", variant))

    def model_config(self, variant: str | None = None) -> DenseConfig:
        """The network ``variant`` trains (None: the plain [model]); without output and cost,
        linear + mse when the data are a regression."""
        from ..models.config import dense_config_from_table

        regression = self.dataset(variant, load=False).regression
        return dense_config_from_table(self.table("model", variant), self.source,
                                       regression=regression, where=self.where("model", variant))

    def config(self, variant: str | None = None, **overrides: Any) -> RunConfig:
        """``variant``'s run configuration; without a seed of its own, the examples are
        shuffled with the model's seed."""
        table = {**self.run_table(variant), **overrides}
        cfg = run_config(table, RUN_KEYS, self.source, self.where(FLAT_TABLE, variant),
                         DEFAULTS)
        if cfg.seed is None:
            cfg = replace(cfg, seed=self.model_config(variant).seed)
        return cfg

    def check_fit(self, variant: str | None, data: Dataset) -> None:
        """Raise ScenarioError (naming the file, the table and the key) unless ``variant``'s
        layers fit ``data``: inputs = features, outputs = classes (or regression targets), and
        a mini-batch's activations (its rows, at most the training set's, times the units of
        all the layers) stay within MAX_ACTIVATIONS. MNIST's shape has no rows yet: its
        mini-batch is checked when the images are loaded (``gdlab check``, a run)."""
        from ..data.dataset import check_network_fits

        cfg = self.model_config(variant)
        check_network_fits(data, cfg.layers, cfg.regression, self.source,
                           self.where("model", variant), self.where("data", variant))
        units = sum(cfg.layers)
        rows = min(int(self.config(variant).batch_size or 1), len(data.y_train))
        if rows * units > MAX_ACTIVATIONS:
            raise ScenarioError(
                f"{self.source}: {self.where(FLAT_TABLE, variant)} key 'batch_size': "
                f"mini-batches of {rows:,} examples through {units:,} units hold "
                f"{rows * units:,} activations, more than the limit of {MAX_ACTIVATIONS:,} "
                f"(use at most {MAX_ACTIVATIONS // units:,} examples per batch)")

    def build_model(self, variant: str | None = None, data: Dataset | None = None) -> DenseNet:
        """A new network with ``variant``'s initial weights, for ``data`` (loaded if None): its
        precision, its input scaling and its training-set size (the n of l2 and l1)."""
        from ..models.dense import DenseNet

        ds = data if data is not None else self.dataset(variant)
        cfg = self.model_config(variant)
        return DenseNet(cfg, dtype=cfg.dtype or ds.dtype, n_train=len(ds.y_train),
                        input_scale=ds.input_scale)


def load_checked(sc: NetworkScenario, variants: list[str | None]) -> dict[str | None, Dataset]:
    """Each variant's data (loaded once per distinct [data]), every variant's layers checked
    against it: all that a run checks before its first record."""
    loaded: dict[str, Dataset] = {}
    out: dict[str | None, Dataset] = {}
    for variant in variants:
        key = _key(sc.table("data", variant))
        if key not in loaded:
            loaded[key] = sc.dataset(variant)
        sc.check_fit(variant, loaded[key])
        out[variant] = loaded[key]
    return out


class NetworkStream:
    """The records of one variant's training (batch and epoch records); ``summary`` at the end.

    ``net``: the network being trained (views read it between records, and after the last);
    ``data``: its Dataset.
    """

    def __init__(self, sc: NetworkScenario, variant: str | None, *, data: Dataset | None = None,
                 net: DenseNet | None = None, cfg: RunConfig | None = None,
                 should_stop: Callable[[], bool] | None = None) -> None:
        self.scenario, self.variant = sc, variant
        self.cfg = cfg or sc.config(variant)
        self.data = data if data is not None else sc.dataset(variant)
        sc.check_fit(variant, self.data)
        self.net = net or sc.build_model(variant, self.data)
        self.should_stop = should_stop
        self.summary: NetworkSummary | None = None

    def __iter__(self) -> Iterator[BatchRecord | EpochRecord]:
        from ..train import train

        records = train(self.net, self.cfg, self.data, should_stop=self.should_stop,
                        scenario=self.scenario.name, variant=self.variant)
        try:
            for rec in records:
                if isinstance(rec, NetworkSummary):
                    self.summary = rec
                else:
                    yield rec
        finally:
            records.close()


class NetworkKind(Kind):
    """Dense networks (engine.models) trained on a data source (engine.data.network_data)."""

    name = "network"
    tables = ("model", "data", "run")
    variant_tables = (FLAT_TABLE, "model", "data")
    implied_by = "model"

    def validate(self, meta: dict[str, Any], tables: dict[str, dict[str, Any]],
                 variants: dict[str, dict[str, dict[str, Any]]]) -> NetworkScenario:
        sc = NetworkScenario(**meta, kind=self.name, tables=tables, variants=variants)
        if not tables.get("model"):
            raise ScenarioError(f"{sc.source}: [model] is missing: a network scenario needs "
                                "layers = [n_in, ..., n_out]")
        for variant in [None, *variants]:
            sc.config(variant)
            sc.check_fit(variant, sc.dataset(variant, load=False))
        return sc

    def check(self, sc: Scenario) -> None:
        """Load each variant's data (once per distinct [data]) and check the layers fit it."""
        assert isinstance(sc, NetworkScenario)
        load_checked(sc, list(sc.variants) or [None])

    def stream(self, sc: Scenario, variant: str | None, *,
               should_stop: Callable[[], bool] | None = None) -> NetworkStream:
        assert isinstance(sc, NetworkScenario)
        return NetworkStream(sc, variant, should_stop=should_stop)

    # --- sweeps --------------------------------------------------------------------------

    def metrics(self, sc: Scenario, variant: str | None = None) -> dict[str, Metric]:
        """No accuracy for a regression, no validation figures without a validation set."""
        assert isinstance(sc, NetworkScenario)
        drop: tuple[str, ...] = ()
        if sc.dataset(variant, load=False).regression:
            drop += ACCURACY_METRICS
        if not sc.table("data", variant).get("validation"):
            drop += VALIDATION_METRICS
        return {m.name: m for m in METRICS if m.name not in drop}

    def default_metric(self, sc: Scenario, variant: str | None = None) -> str:
        """The final test accuracy (a regression's final test loss)."""
        return next(m for m in ("final_test_accuracy", "final_test_loss")
                    if m in self.metrics(sc, variant))

    def probe(self, sc: Scenario, metric: str) -> Probe:
        return NetworkProbe(metric)

    def seed_keys(self, sc: Scenario) -> tuple[str, ...]:
        """The model's seed (its initial weights, and the order of the examples unless [run]
        has seeds of its own: then those too)."""
        return ("model.seed", *(f"{FLAT_TABLE}.{k}" for k in ("seed", "shuffle_seed")
                                if k in sc.run))


class NetworkProbe(Probe):
    """The best test accuracy of any epoch, and the first epoch reaching ACC."""

    def __init__(self, metric: str) -> None:
        super().__init__(metric)
        self.accuracies: list[tuple[int, float]] = []

    def see(self, record: Any) -> None:
        if isinstance(record, EpochRecord) and record.test_accuracy is not None:
            self.accuracies.append((record.epoch, record.test_accuracy))

    def extras(self) -> dict[str, Any]:
        return {"best_test_accuracy": max(a for _, a in self.accuracies)} \
            if self.accuracies else {}

    def value(self, summary: dict[str, Any]) -> Any:
        if self.name == "epochs_to":
            return next((e for e, a in self.accuracies if a >= float(self.arg)), None)
        return super().value(summary)


KIND = NetworkKind()
