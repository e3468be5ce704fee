"""The [data] table of a network scenario -> a ``Dataset``: ``dataset_from_table``.

SOURCES is the one place a data source is registered: its name, its own keys, its builder
(a module of engine/data), and whether ``features`` apply. The keys every source shares are
read here: ``features`` (expressions over the raw inputs) and ``validation`` (training examples
held out). docs/scenarios.md ("The network kind") documents every key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..validate import Table
from . import csv_source, curve, gates, mnist_source, moons, playground
from .columns import features_from_table
from .dataset import GENERATED_KEYS, Dataset, check_network_fits, hold_out, with_features

Builder = Callable[[Table, Path, str, str], Dataset]


@dataclass(frozen=True)
class Source:
    """A data source: its own [data] keys, its builder, and whether ``features`` apply."""

    keys: tuple[str, ...]
    build: Builder
    features: bool = True
    validation: bool = True


SOURCES: dict[str, Source] = {
    "mnist": Source(mnist_source.KEYS, mnist_source.build, features=False),
    "circle": Source(GENERATED_KEYS, playground.build),
    "xor": Source(GENERATED_KEYS, playground.build),
    "gauss": Source(GENERATED_KEYS, playground.build),
    "spiral": Source(GENERATED_KEYS, playground.build),
    "moons": Source(GENERATED_KEYS, moons.build),
    "gates": Source(gates.KEYS, gates.build, validation=False),
    "curve": Source(GENERATED_KEYS + curve.KEYS, curve.build),
    "csv": Source(csv_source.KEYS, csv_source.build),
}


def dataset_from_table(table: Any, base_dir: Path, source: str, *, load: bool = True,
                       where: str = "[data]") -> Dataset:
    """Build the Dataset a scenario's [data] table describes; DataError (a ScenarioError) names
    the file and the key. ``base_dir``: the scenario's folder (CSV files, MNIST paths);
    ``where``: the table as messages name it ("[variants.noisy.data]" for a variant's).

    ``load=False`` checks the table without looking for MNIST's folder or reading its images
    (for reading a scenario and listing): the Dataset has no rows but its shape (784
    features, 10 classes), enough for ``check_network_fits``. Every other source is cheap to
    build and is built either way.
    """
    t = Table(table, where, source, DataError)
    if "source" not in t:
        names = ", ".join(repr(s) for s in SOURCES)
        raise DataError(f"{t.at('source')} is missing (one of {names})")
    name = t.choice("source", tuple(SOURCES))
    spec = SOURCES[name]
    allowed = ("source", *spec.keys, *(("features",) if spec.features else ()),
               *(("validation",) if spec.validation else ()))
    t.only(allowed, f"for source '{name}'")
    ds = spec.build(t, Path(base_dir), source, name) if load or name != "mnist" else \
        mnist_source.shape_only(t, Path(base_dir), source)
    if spec.features:
        ds = with_features(ds, features_from_table(t.get("features"), ds.raw_names, source,
                                                   where), t.at("features"))
    if spec.validation:
        count = t.integer("validation", 0, low=0)
        if len(ds.y_train):  # (an MNIST shape without rows is checked when it is loaded)
            ds = hold_out(ds, count, t.at("validation"))
    return ds


__all__ = ["SOURCES", "Dataset", "Source", "check_network_fits", "dataset_from_table"]
