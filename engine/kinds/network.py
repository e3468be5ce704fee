"""The network kind: a dense network trained on a data set with mini-batches, record per epoch.

Tables: [model] (the network: engine.mlp's layers, activation, cost, init, weight decay, seed),
[data] (the data set: MNIST, with limits and a validation split) and [run] (the shared run
configuration plus report_every and patience). Variants may change any key of the three
(``[variants.big.model] layers = [784, 100, 10]``). The record stream is ``engine.train.train``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import validate as v
from ..data.split import DataSplit, labels_max
from ..errors import ScenarioError
from ..records import BatchRecord, EpochRecord, NetworkSummary
from ..run import SHARED_KEYS, RunConfig, run_config
from .base import FLAT_TABLE, Kind, Scenario

if TYPE_CHECKING:  # the network itself is imported when a network scenario is read
    from ..mlp import MLP, MLPConfig

RUN_KEYS = ("report_every", "shuffle_seed", "patience", *SHARED_KEYS)
#: what a network's [run] leaves out (seed: None means the model's seed)
DEFAULTS = {"lr": 3.0, "batch_size": 10, "epochs": 30, "seed": None, "report_every": 500}
DATA_KEYS = ("source", "path", "train_limit", "test_limit", "validation")
SOURCES = ("mnist",)


@dataclass
class NetworkScenario(Scenario):
    """A network scenario: [model], [data] and [run], each variant a change of any of them."""

    @property
    def label(self) -> str:
        return "network"

    def model_config(self, variant: str | None = None) -> MLPConfig:
        """The network ``variant`` trains (None: the plain [model])."""
        from ..mlp import mlp_config_from_table

        return mlp_config_from_table(self.table("model", variant), self.source,
                                     self.where("model", variant))

    def data_options(self, variant: str | None = None) -> dict[str, Any]:
        """``variant``'s [data], checked: source, path (resolved), limits, validation."""
        return data_options(self.table("data", variant), self.path, self.source,
                            self.where("data", variant))

    def config(self, variant: str | None = None, **overrides: Any) -> RunConfig:
        """``variant``'s run configuration; without a seed of its own, the examples are
        shuffled with the model's seed."""
        table = {**self.run_table(variant), **overrides}
        cfg = run_config(table, RUN_KEYS, self.source, self.where(FLAT_TABLE, variant),
                         DEFAULTS)
        if cfg.seed is None:
            cfg = replace(cfg, seed=self.model_config(variant).seed)
        return cfg

    def build_model(self, variant: str | None = None) -> MLP:
        """A new network with ``variant``'s initial weights."""
        from ..mlp import MLP

        return MLP(self.model_config(variant))


def data_options(t: dict[str, Any], path: Path | None, source: str,
                 where: str = "[data]") -> dict[str, Any]:
    """[data] of a network scenario: source = "mnist", optional path, limits and validation."""
    for key in t:
        if key not in DATA_KEYS:
            raise ScenarioError(f"{source}: {where} unknown key '{key}' for a network scenario "
                                f"(expected: {', '.join(DATA_KEYS)})")
    at = lambda key: f"{source}: {where} key '{key}'"  # noqa: E731
    opts: dict[str, Any] = {"source": v.choice(t.get("source", "mnist"), at("source"), SOURCES)}
    for key in ("train_limit", "test_limit"):
        if key in t:
            opts[key] = v.integer(t[key], at(key), low=1)
    opts["validation"] = v.integer(t.get("validation", 0), at("validation"), low=0)
    if "path" in t:
        if not isinstance(t["path"], str):
            raise v.fail(at("path"), "a folder path (a string)", t["path"], wrong_type=True)
        p = Path(t["path"]).expanduser()
        opts["path"] = p if p.is_absolute() or path is None else path.parent / p
    return opts


def load_data(sc: NetworkScenario, variant: str | None = None) -> DataSplit:
    """Load ``variant``'s data set and hold out its validation examples."""
    from ..data.mnist import load_mnist

    opts = sc.data_options(variant)
    d = load_mnist(opts.get("path"), train_limit=opts.get("train_limit"),
                   test_limit=opts.get("test_limit"))
    n_val = opts["validation"]
    if n_val >= len(d.train_images):
        raise ScenarioError(
            f"{sc.source}: {sc.where('data', variant)} key 'validation': holding out {n_val} "
            f"of {len(d.train_images)} training examples leaves none to train on")
    split = DataSplit(d.train_images, d.train_labels, d.test_images, d.test_labels,
                      description=d.source, is_subset=d.is_subset)
    if n_val:
        split = replace(split.hold_out(n_val),
                        description=f"{d.source}; the last {n_val} training examples held out "
                               "for validation")
    return split


def check_fit(sc: NetworkScenario, variant: str | None, data: DataSplit) -> None:
    """Raise ScenarioError (naming the file and the key) unless the layers fit the data."""
    layers = sc.model_config(variant).layers
    top = max(labels_max(data.y_train), labels_max(data.y_test))
    if layers[0] != data.n_features or top >= layers[-1]:
        raise ScenarioError(
            f"{sc.source}: {sc.where('model', variant)} key 'layers': {layers} does not fit "
            f"the data: {data.n_features} inputs per example and labels up to {top} (need "
            f"layers = [{data.n_features}, ..., {top + 1}])")


def load_checked(sc: NetworkScenario, variants: list[str | None]
                 ) -> dict[str | None, DataSplit]:
    """Each variant's data (loaded once per distinct [data]), every variant's layers checked
    against it: all that a run checks before its first record."""
    loaded: dict[str, DataSplit] = {}
    out: dict[str | None, DataSplit] = {}
    for variant in variants:
        key = repr(sorted(sc.data_options(variant).items()))
        if key not in loaded:
            loaded[key] = load_data(sc, variant)
        check_fit(sc, variant, loaded[key])
        out[variant] = loaded[key]
    return out


class NetworkStream:
    """The records of one variant's training (batch and epoch records); ``summary`` at the end.

    ``net``: the network being trained (the dashboard reads it between records).
    """

    def __init__(self, sc: NetworkScenario, variant: str | None, *, data: DataSplit | None = None,
                 net: MLP | None = None, cfg: RunConfig | None = None,
                 should_stop: Callable[[], bool] | None = None) -> None:
        self.scenario, self.variant = sc, variant
        self.cfg = cfg or sc.config(variant)
        self.data = data if data is not None else load_data(sc, variant)
        check_fit(sc, variant, self.data)
        self.net = net or sc.build_model(variant)
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
    """Dense networks trained on a data set (today: MNIST and the MLP of engine/mlp.py)."""

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
            sc.model_config(variant)
            sc.data_options(variant)
            sc.config(variant)
        return sc

    def check(self, sc: Scenario) -> None:
        """Load each variant's data (once per distinct [data]) and check the layers fit it."""
        assert isinstance(sc, NetworkScenario)
        load_checked(sc, list(sc.variants) or [None])

    def stream(self, sc: Scenario, variant: str | None, *,
               should_stop: Callable[[], bool] | None = None) -> NetworkStream:
        assert isinstance(sc, NetworkScenario)
        return NetworkStream(sc, variant, should_stop=should_stop)


KIND = NetworkKind()
