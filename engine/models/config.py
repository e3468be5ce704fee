"""The [model] table of a network scenario, checked key by key: ``dense_config_from_table``.

Every mistake is one line naming the file and the key, e.g.
``xor.toml: [model] key 'layers': expected layer sizes >= 1, got 0 in [2, 0, 1]``.
docs/scenarios.md ("The network kind") documents every key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import limits
from ..errors import ScenarioError
from ..validate import Table, is_number, show
from .activations import ACTIVATIONS
from .costs import COSTS, OUTPUTS, PAIRS, OutputCost
from .init import INITS

MODEL_KEYS = ("layers", "activation", "output", "cost", "init", "bias_init", "weights",
              "biases", "seed", "l2", "l1", "dtype")
MAX_LAYER_SIZE = limits.MAX_LAYER_SIZE  # neurons (or inputs) in one layer (engine/limits.py)
MAX_HIDDEN_LAYERS = limits.MAX_HIDDEN_LAYERS
MAX_PARAMETERS = limits.MAX_PARAMETERS  # weights and biases together
MAX_GIVEN_MAGNITUDE = 1e6  # a given weight or bias larger than this is surely a typo
DTYPES = ("float64", "float32")


@dataclass
class DenseConfig:
    """What a scenario's [model] table describes (defaults: the sigmoid network of Nielsen ch. 1).

    layers: sizes from input to output; activations: one name per hidden layer; output/cost:
    a pair of engine.models.costs.PAIRS; init: a rule of engine.models.init (``weights`` and
    ``biases`` for "given"); bias_init: a number for every bias, or None for the rule's own;
    seed: of the initial weights; l2, l1: lambda of (lambda/2n) sum w^2 and (lambda/n) sum |w|
    over the weights (never the biases), n the training-set size; dtype: "float64",
    "float32", or None for the data source's choice.
    """

    layers: list[int] = field(default_factory=lambda: [784, 30, 10])
    activations: list[str] = field(default_factory=lambda: ["sigmoid"])
    output: str = "softmax"
    cost: str = "cross_entropy"
    init: str = "normal"
    bias_init: float | None = None
    weights: list[list[list[float]]] | None = None
    biases: list[list[float]] | None = None
    seed: int = 1
    l2: float = 0.0
    l1: float = 0.0
    dtype: str | None = None

    @property
    def pair(self) -> OutputCost:
        """The output layer and cost: its forward pass, BP1 and per-example cost."""
        return PAIRS[(self.output, self.cost)]

    @property
    def regression(self) -> bool:
        return self.pair.regression

    @property
    def n_in(self) -> int:
        return self.layers[0]

    @property
    def n_out(self) -> int:
        return self.layers[-1]


def default_output_cost(n_out: int, regression: bool = False, output: str | None = None,
                        cost: str | None = None) -> tuple[str, str]:
    """Fill in what the table leaves out: softmax + cross-entropy for several outputs, sigmoid +
    cross-entropy for one, linear + mse for regression; a lone key picks its usual partner."""
    partner_of_output = {"sigmoid": "cross_entropy", "softmax": "cross_entropy",
                         "linear": "mse", "tanh": "quadratic"}
    if output is None and cost is None:
        if regression:
            return "linear", "mse"
        return ("softmax" if n_out > 1 else "sigmoid"), "cross_entropy"
    if cost is None:
        return output, partner_of_output[output]  # type: ignore[index,return-value]
    if output is None:
        if cost == "mse":
            return "linear", cost
        if cost == "quadratic":
            return "sigmoid", cost
        return ("softmax" if n_out > 1 else "sigmoid"), cost
    return output, cost


def dense_config_from_table(table: Any, source: str, *, regression: bool = False,
                            where: str = "[model]") -> DenseConfig:
    """Return the DenseConfig a scenario's [model] table describes, or raise ScenarioError.

    ``source`` names the file and ``where`` the table in messages ("[variants.deep.model]").
    ``regression``: the data are a regression problem, so a table that names neither
    ``output`` nor ``cost`` gets linear + mse.
    """
    t = Table(table, where, source)
    if "weight_decay" in t:
        raise t.fail("weight_decay", "not a [model] key: write l2 = lambda (the cost gains "
                     "(lambda/2n) sum w^2, Nielsen ch. 3), or weight_decay in [run] (the "
                     "optimizer's, as in PyTorch)")
    t.only(MODEL_KEYS)
    layers = _layers(t)
    cfg = DenseConfig(layers=layers)
    cfg.activations = _activations(t, len(layers) - 2)
    output = t.choice("output", OUTPUTS, None)
    cost = t.choice("cost", COSTS, None)
    cfg.output, cfg.cost = default_output_cost(layers[-1], regression, output, cost)
    if (cfg.output, cfg.cost) not in PAIRS:
        pairs = ", ".join(f"{o} + {c}" for o, c in PAIRS)
        raise ScenarioError(f"{source}: {where} keys 'output' and 'cost': output "
                            f"'{cfg.output}' with cost '{cfg.cost}' is not a pair that makes "
                            f"sense (pairs: {pairs})")
    if cfg.output == "softmax" and layers[-1] < 2:
        raise t.fail("layers", f"a softmax output needs at least 2 outputs, got {layers!r} "
                     "(one output: output = \"sigmoid\")")
    cfg.init = t.choice("init", INITS, cfg.init)
    if "bias_init" in t:
        b = t.get("bias_init")
        if b == "auto":
            cfg.bias_init = None
        elif is_number(b):
            cfg.bias_init = float(b)
        else:
            raise t.expected("bias_init", "a number, or \"auto\" for the init's own rule")
    _given(t, cfg)
    cfg.seed = t.seed("seed", cfg.seed)
    cfg.l2 = t.number("l2", 0.0, low=0.0)
    cfg.l1 = t.number("l1", 0.0, low=0.0)
    cfg.dtype = t.choice("dtype", DTYPES, None)
    return cfg


def _layers(t: Table) -> list[int]:
    if "layers" not in t:
        raise ScenarioError(f"{t.at('layers')} is missing, e.g. "
                            "layers = [2, 4, 2, 1] (inputs, hidden layers, outputs)")
    layers = t.get("layers")
    if not isinstance(layers, list) or len(layers) < 2:
        raise t.expected("layers", "a list [n_in, hidden..., n_out] of at least 2 sizes")
    for n in layers:
        if type(n) is not int or n < 1:
            raise t.fail("layers", f"expected layer sizes >= 1, got {show(n)} in {show(layers)}")
        if n > MAX_LAYER_SIZE:
            raise t.fail("layers", f"expected layer sizes <= {MAX_LAYER_SIZE}, got {show(n)} in "
                         f"{show(layers)}")
    if len(layers) - 2 > MAX_HIDDEN_LAYERS:
        raise t.fail("layers", f"at most {MAX_HIDDEN_LAYERS} hidden layers, got "
                     f"{len(layers) - 2}")
    count = sum(layers[l] * (layers[l - 1] + 1) for l in range(1, len(layers)))
    if count > MAX_PARAMETERS:
        raise t.fail("layers", f"{show(layers)} has {count:,} weights and biases; at most "
                     f"{MAX_PARAMETERS:,}")
    return list(layers)


def _activations(t: Table, hidden: int) -> list[str]:
    names = ", ".join(repr(a) for a in ACTIVATIONS)
    value = t.get("activation", "sigmoid")
    if isinstance(value, str):
        if value not in ACTIVATIONS:
            raise t.expected("activation", f"one of {names}")
        return [value] * hidden
    if not isinstance(value, list):
        raise t.expected("activation", f"one of {names}, or a list with one per hidden layer")
    if len(value) != hidden:
        raise t.fail("activation", f"expected one name per hidden layer ({hidden}), got "
                     f"{len(value)} in {show(value)}")
    for v in value:
        if not isinstance(v, str) or v not in ACTIVATIONS:
            raise t.fail("activation", f"expected one of {names}, got {show(v)} in "
                         f"{show(value)}")
    return list(value)


def _given(t: Table, cfg: DenseConfig) -> None:
    """Check ``weights`` and ``biases`` (init = "given" only) against the layer sizes."""
    for key in ("weights", "biases"):
        if key in t and cfg.init != "given":
            raise t.fail(key, f"only with init = \"given\" (init is '{cfg.init}')")
    if cfg.init != "given":
        return
    sizes = cfg.layers
    if "weights" not in t:
        raise ScenarioError(f"{t.at('weights')} is missing: init = \"given\" "
                            "needs one matrix per layer, W_l with n_l rows of n_(l-1) numbers")
    weights = t.get("weights")
    L = len(sizes) - 1
    if not isinstance(weights, list) or len(weights) != L:
        raise t.fail("weights", f"expected {L} matrices (one per layer of {show(sizes)}), got "
                     f"{_count(weights)}")
    for l, w in enumerate(weights, start=1):
        rows, cols = sizes[l], sizes[l - 1]
        ok = isinstance(w, list) and len(w) == rows and all(
            isinstance(r, list) and len(r) == cols and all(_given_number(x) for x in r)
            for r in w)
        if not ok:
            raise t.fail("weights", f"layer {l}: expected a {rows}x{cols} matrix ({_n(rows, 'row')} "
                         f"of {_n(cols, 'number')}: n_{l} = {rows}, n_{l - 1} = {cols}), got "
                         f"{_shape(w)}")
    cfg.weights = weights
    if "biases" not in t:
        if cfg.bias_init is None:
            raise ScenarioError(f"{t.at('biases')} is missing: init = \"given\" "
                                "needs one vector per layer, or a number in bias_init")
        return
    biases = t.get("biases")
    if not isinstance(biases, list) or len(biases) != L:
        raise t.fail("biases", f"expected {L} vectors (one per layer of {show(sizes)}), got "
                     f"{_count(biases)}")
    for l, b in enumerate(biases, start=1):
        if not (isinstance(b, list) and len(b) == sizes[l] and all(_given_number(x) for x in b)):
            raise t.fail("biases", f"layer {l}: expected a vector of {sizes[l]} numbers "
                         f"(n_{l} = {sizes[l]}), got {_shape(b)}")
    if cfg.bias_init is not None:
        raise t.fail("bias_init", "give either biases or bias_init, not both")
    cfg.biases = biases


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


def _given_number(x: Any) -> bool:
    return is_number(x) and abs(x) <= MAX_GIVEN_MAGNITUDE


def _count(value: Any) -> str:
    return f"{len(value)}" if isinstance(value, list) else show(value)


def _shape(value: Any) -> str:
    """Describe what was written: "a 3x2 matrix", "a list of 4 numbers", or the value."""
    if isinstance(value, list) and value and all(isinstance(r, list) for r in value):
        lengths = {len(r) for r in value}
        if len(lengths) == 1:
            bad = [x for r in value for x in r if not _given_number(x)]
            if bad:
                return f"{show(bad[0])} among the numbers (each finite, |x| <= 1e6)"
            return f"a {len(value)}x{lengths.pop()} matrix"
        return f"rows of lengths {sorted(lengths)}"
    if isinstance(value, list):
        bad = [x for x in value if not _given_number(x)]
        if bad:
            return f"{show(bad[0])} among the numbers (each finite, |x| <= 1e6)"
        return f"a list of {len(value)} numbers"
    return show(value)
