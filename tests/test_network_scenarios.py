"""Every bundled network scenario does what its description says, with the description's numbers.

Each figure is written once, here, as the phrase the description must contain with the number in
braces ("reaches {100}% at epoch {51}" holds two): ``figure`` checks that the description says
it and that a run of the scenario (through the network kind, as ``gdlab run`` does) measures it.
The small problems run in full; the MNIST ones on the bundled subset (5,000 training images),
whose figures their descriptions state apart. The full-MNIST figures are confirmed by
bench/bench_scenarios.py (docs/benchmarks.md). Float64 runs are reproduced to the printed digit;
MNIST runs are float32, whose sums differ a little between BLAS builds, so their accuracies are
checked to 0.3 points (``MNIST_TOL``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from engine.kinds import get
from engine.kinds.network import NetworkScenario
from engine.records import EpochRecord, NetworkSummary
from engine.scenario import load_scenario

MNIST_TOL = 0.3  # percentage points, for float32 MNIST accuracies (see the docstring)


@dataclass
class Run:
    epochs: list[EpochRecord]
    summary: NetworkSummary

    def acc(self, epoch: int | None = None, which: str = "test") -> float:
        """Accuracy in % at ``epoch`` (None: the last)."""
        rec = self.epochs[-1] if epoch is None else self.epochs[epoch]
        return 100 * getattr(rec, f"{which}_accuracy")

    def first(self, percent: float) -> float:
        """The first epoch whose test accuracy is at least ``percent`` (inf if none)."""
        return next((r.epoch for r in self.epochs if 100 * r.test_accuracy >= percent - 1e-9),
                    math.inf)

    def speeds(self, epoch: int = 0) -> tuple[float, ...]:
        return self.epochs[epoch].layer_grad_norm


def load(name: str) -> NetworkScenario:
    sc = load_scenario(name)
    assert isinstance(sc, NetworkScenario)
    return sc


def run(sc: NetworkScenario, variant: str) -> Run:
    stream = get("network").stream(sc, variant)
    epochs = [r for r in stream if isinstance(r, EpochRecord)]
    assert stream.summary is not None and stream.summary.stop_reason == "epochs"
    return Run(epochs, stream.summary)


def figure(sc: NetworkScenario, phrase: str, *measured: float, tol: float = 0.0) -> None:
    """``phrase`` holds numbers in braces ("ends at {60.0}% test accuracy"): the description
    says the phrase (without the braces) and the run measured each number, to within ``tol``
    or to the rounding of its printed digits, whichever is larger."""
    said = " ".join(sc.description.split())
    text = phrase.replace("{", "").replace("}", "")
    assert text in said, f"{sc.name}: the description does not say {text!r}"
    numbers = re.findall(r"\{([^}]*)\}", phrase)
    assert len(numbers) == len(measured)
    for shown, value in zip(numbers, measured, strict=True):
        digits = shown.replace(",", "")
        decimals = len(digits.split(".")[1]) if "." in digits else 0
        if "e" in digits.lower():
            mantissa = digits.lower().split("e")[0]
            decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
            rounding = 0.5 * 10 ** (int(digits.lower().split("e")[1]) - decimals)
        else:
            rounding = 0.5 * 10 ** -decimals if decimals else 0.0
        assert value == pytest.approx(float(digits), abs=max(tol, rounding * 1.0001)), \
            f"{sc.name}: {text!r}: measured {value}"


def sig(x: float, digits: int = 3) -> float:
    """``x`` rounded to ``digits`` significant digits (descriptions print losses so)."""
    return float(f"{x:.{digits}g}")


# --- TensorFlow Playground's sets ---------------------------------------------------------------


def test_circle() -> None:
    sc = load("circle")
    r = run(sc, "playground")
    figure(sc, "passes {90}% at epoch {44} and reaches {100}% at epoch {51}", 90, r.first(90),
           100, r.first(100))
    figure(sc, "after 100 epochs the test loss is {0.0123}", sig(r.summary.final_test_loss))
    r = run(sc, "no_hidden")
    figure(sc, "ends at {60.0}% test accuracy ({62.8}% train)", r.acc(), r.acc(which="train"))
    r = run(sc, "squares")
    figure(sc, "reaches {100}% test accuracy at epoch {3}", r.acc(), r.first(100))


def test_xor() -> None:
    sc = load("xor")
    r = run(sc, "playground")
    figure(sc, "passes {90}% at epoch {26} and {95}% at epoch {60}, {97.2}% after 100 epochs "
           "({98.4}% train)", 90, r.first(90), 95, r.first(95), r.acc(), r.acc(which="train"))
    r = run(sc, "no_hidden")
    figure(sc, "{48.0}% test accuracy after 100 epochs", r.acc())
    r = run(sc, "x1x2")
    figure(sc, "{100}% test accuracy after the first epoch", r.acc(1))


def test_gauss() -> None:
    sc = load("gauss")
    r = run(sc, "playground")
    figure(sc, "{100}% test accuracy after the first epoch, test loss {0.00157} after 50",
           r.acc(1), sig(r.summary.final_test_loss))
    r = run(sc, "no_hidden")
    figure(sc, "does as well ({100}% from epoch {1})", min(e.test_accuracy * 100
                                                          for e in r.epochs[1:]), r.first(100))
    r = run(sc, "noisy")
    figure(sc, "variance 0.5 + 7 x 0.5 = {4}", 0.5 + 7 * 0.5)
    figure(sc, "{96.4}% train and {91.6}% test accuracy after 50 epochs", r.acc(which="train"),
           r.acc())


def test_spiral_playground_and_deeper() -> None:
    sc = load("spiral")
    r = run(sc, "playground")
    figure(sc, "{61.2}% test accuracy ({70.4}% train) after 500 epochs", r.acc(),
           r.acc(which="train"))
    r = run(sc, "deeper")
    figure(sc, "gets to {79.6}% test ({90.4}% train)", r.acc(), r.acc(which="train"))
    s = r.speeds(0)
    figure(sc, "learns {12} times more slowly than its last (speed 1 = {0.00228}, speed 5 = "
           "{0.0282})", round(s[-1] / s[0]), sig(s[0]), sig(s[-1]))


def test_spiral_features_and_sines() -> None:
    sc = load("spiral")
    r = run(sc, "features")
    figure(sc, "{99.6}% train but {94.0}% test accuracy, test loss {0.0958} against {0.0096}",
           r.acc(which="train"), r.acc(), sig(r.summary.final_test_loss),
           sig(r.summary.final_train_loss, 2))
    r = run(sc, "sines")
    figure(sc, "reaches {99}% test accuracy at epoch {207} and {98.8}% after 500 ({100}% train)",
           99, r.first(99), r.acc(), r.acc(which="train"))


# --- gates, XOR, three classes, a sine ----------------------------------------------------------


def test_logic_gates_and_or_nand_nor_are_learned() -> None:
    sc = load("logic_gates")
    runs = [run(sc, g) for g in ("and", "or", "nand", "nor")]
    assert all(r.acc() == 100 for r in runs)
    e = [r.first(100) for r in runs]
    loss = [sig(r.summary.final_train_loss) for r in runs]
    figure(sc, "first at epochs {3}, {16}, {19} and {23}", *e)
    figure(sc, "final loss {0.0344}, {0.0186}, {0.0348} and {0.0189}", *loss)


def test_logic_gates_xor_settles_where_the_gradient_vanishes() -> None:
    """The best a single neuron can do on XOR: with w = 0 and b = 0 every output is 1/2 and the
    cross-entropy of each point is ln 2 (derived); by symmetry the gradient is zero there."""
    sc = load("logic_gates")
    r = run(sc, "xor")
    figure(sc, "the loss is ln 2 = {0.693147}", r.summary.final_train_loss)
    assert r.summary.final_train_loss == pytest.approx(math.log(2), abs=1e-9)
    assert max(100 * e.test_accuracy for e in r.epochs) <= 75  # at most 3 of 4 (no line works)
    figure(sc, "the speed column falls below {1e-10}", max(r.speeds(-1)) + 0.0 * 1e-10, tol=1e-10)


def test_xor_2_2_1_lucky_faster_stuck() -> None:
    sc = load("xor_2_2_1")
    r = run(sc, "lucky")
    figure(sc, "lucky (seed 3): {100}% accuracy at epoch {954}, loss {0.00439} after 3,000",
           r.acc(), r.first(100), sig(r.summary.final_train_loss))
    r = run(sc, "faster")
    figure(sc, "learning rate 2.0 gets there at epoch {1,329}", r.first(100))
    r = run(sc, "stuck")
    figure(sc, "stuck (seed 10) is still at {75}% after 3,000 epochs", r.acc())
    figure(sc, "watch speed 2 fall to {1.5e-4}", sig(r.speeds(-1)[1], 2))


def test_xor_2_2_1_plateau() -> None:
    sc = load("xor_2_2_1")
    r = run(sc, "plateau")
    acc = [e.test_accuracy for e in r.epochs]
    end = max(e for e, a in enumerate(acc) if a == 0.5)
    start = end
    while acc[start - 1] == 0.5:
        start -= 1
    figure(sc, "from epoch {12} to {2,771} the output is about 0.5 for every point", start, end)
    three = [e for e, a in enumerate(acc) if a == 0.75]
    # C = 1/2 (a - y)^2 with a = 0.5 for y = 0 and for y = 1: 1/8 per point (derived)
    figure(sc, "the loss sits near 1/8 = {0.125}", 0.5 * 0.5 ** 2)
    assert r.epochs[1000].train_loss == pytest.approx(0.125, abs=0.001)
    figure(sc, "then three of four until epoch {5,299}, and {100}% at epoch {5,300}", three[-1],
           r.acc(), r.first(100))
    assert set(acc[2772:5300]) == {0.75}


def test_three_class() -> None:
    sc = load("three_class")
    r = run(sc, "softmax")
    figure(sc, "softmax reaches {92.0}% test accuracy ({95.3}% train), test loss {0.202}",
           r.acc(), r.acc(which="train"), sig(r.summary.final_test_loss))
    r = run(sc, "hidden")
    figure(sc, "{93.3}% test ({96.0}% train), but its test loss climbs from {0.182} at epoch 10 "
           "to {0.236} at epoch 100", r.acc(), r.acc(which="train"), sig(r.epochs[10].test_loss),
           sig(r.epochs[100].test_loss))
    assert r.epochs[100].train_loss < r.epochs[10].train_loss
    r = run(sc, "sigmoid")
    figure(sc, "the same {92.0}% test accuracy", r.acc())


def test_three_class_data_are_the_tools_script() -> None:
    """The bundled CSV is what tools/make_three_clusters.py writes (its centres are stated)."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "tools" / "make_three_clusters.py"
    spec = importlib.util.spec_from_file_location("make_three_clusters", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rows = np.loadtxt(Path(__file__).resolve().parents[1] / "scenarios" / "data" /
                      "three_clusters.csv", delimiter=",", skiprows=1)
    rng = np.random.default_rng(mod.SEED)
    for label, centre in enumerate(mod.CENTRES):
        pts = rng.normal(centre, mod.STD, (mod.PER_CLASS, 2))
        np.testing.assert_allclose(rows[rows[:, 2] == label, :2], pts, atol=5e-5)
    figure(load("three_class"), "class 0 around ({-2}, {-1}), class 1 around ({2}, {-1}), "
           "class 2 around ({0}, {2})", *(c for xy in mod.CENTRES for c in xy))


def test_sin_fit() -> None:
    sc = load("sin_fit")
    mse = {v: sig(run(sc, v).summary.final_test_loss) for v in sc.variants}
    figure(sc, "tanh_10 (ten tanh neurons) {0.000379}, tanh_3 (three) {0.00617}, relu_10",
           mse["tanh_10"], mse["tanh_3"])
    figure(sc, "a curve made of straight pieces) {0.00393}", mse["relu_10"])
    figure(sc, "the test MSE is {0.0392}, close to the noise's variance {0.04}", mse["noisy"],
           0.2 ** 2)


# --- MNIST, on the bundled subset -------------------------------------------------------------


@pytest.fixture
def subset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """MNIST from the bundled subset: no $GDLAB_MNIST_DIR, an empty cache."""
    monkeypatch.delenv("GDLAB_MNIST_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def ten_epochs(name: str) -> NetworkScenario:
    """``name`` with 10 epochs (its 30-epoch figures are bench/bench_scenarios.py's)."""
    sc = load_scenario(name, ["run.epochs=10"])
    assert isinstance(sc, NetworkScenario)
    return sc


@pytest.mark.parametrize("variant", ["large", "scaled"])
def test_mnist_init_on_the_subset(subset: None, variant: str) -> None:
    r = run(ten_epochs("mnist_init"), variant)
    phrase = ("the head start is larger: {56.1}% against 80.0% after the first epoch, {84.6}% "
              "and 89.0% after 10" if variant == "large" else
              "the head start is larger: 56.1% against {80.0}% after the first epoch, 84.6% "
              "and {89.0}% after 10")
    figure(load("mnist_init"), phrase, r.acc(1), r.acc(10), tol=MNIST_TOL)


def test_mnist_init_spread_of_z_is_derived_from_the_images(subset: None) -> None:
    """sqrt(1 + ||x||^2) is the standard deviation of w.x + b with w, b ~ N(0, 1) (derived);
    with w ~ N(0, 1/784) it is sqrt(1 + ||x||^2 / 784)."""
    sc = load("mnist_init")
    x = sc.dataset("large").X_train.astype(np.float64) / 255
    norm2 = np.median(np.sum(x * x, axis=1))
    figure(sc, "sqrt(1 + ||x||^2), {9.26} for the median training image", math.sqrt(1 + norm2))
    figure(sc, "so sqrt(1 + ||x||^2/784), {1.05}", math.sqrt(1 + norm2 / 784))


@pytest.mark.parametrize("variant,phrase", [
    ("lambda_0", "after 10 epochs lambda_0 has {96.80}% train against {86.80}% test"),
    ("lambda_5", "lambda_5 {95.24}% against {89.30}%; after 30"),
])
def test_mnist_l2_on_the_subset(subset: None, variant: str, phrase: str) -> None:
    r = run(ten_epochs("mnist_l2"), variant)
    figure(load("mnist_l2"), phrase, r.acc(which="train"), r.acc(), tol=MNIST_TOL)


def test_vanishing_gradient_speeds_before_training(subset: None) -> None:
    """The epoch-0 speeds are over the first 1,000 training images, the same in the subset and
    the full MNIST (the subset is its first 5,000), so they are those of the full data too."""
    sc = load("vanishing_gradient")
    speeds = {}
    for v in sc.variants:
        stream = get("network").stream(sc, v)
        speeds[v] = next(iter(stream)).layer_grad_norm
    d = speeds["deep"]
    figure(sc, "the speeds are {0.0152}, {0.0787}, {0.336} and {1.33}", *map(sig, d))
    figure(sc, "each layer learns {4.0} to {5.2} times more slowly than the next",
           min(d[i + 1] / d[i] for i in range(3)), max(d[i + 1] / d[i] for i in range(3)))
    figure(sc, "the first layer {88} times more slowly than the last", round(d[3] / d[0]))
    t = speeds["two_hidden"]
    figure(sc, "two_hidden: {0.0716}, {0.358}, {1.58}, a ratio of {22}", *map(sig, t),
           round(t[2] / t[0]))
    s = speeds["shallow"]
    figure(sc, "shallow ([784, 30, 10]): a ratio of {4.4}", round(s[1] / s[0], 1))
    figure(sc, "weights): {1.00}, {1.43}, {1.35}, {1.35}, no vanishing", *map(sig, speeds["relu"]))


def test_vanishing_gradient_deep_network_learns_late_on_the_subset(subset: None) -> None:
    sc = load_scenario("vanishing_gradient", ["run.epochs=3"])
    assert isinstance(sc, NetworkScenario)
    deep, shallow = run(sc, "deep"), run(sc, "shallow")
    figure(load("vanishing_gradient"), "{12.6}% test accuracy after epoch 1 and {21.2}% after "
           "epoch 3, when shallow has {80.4}% and {87.8}%", deep.acc(1), deep.acc(3),
           shallow.acc(1), shallow.acc(3), tol=MNIST_TOL)
