"""Benchmark the network kind (engine.models.dense through engine.train) against PyTorch (CPU).

Prints figures, never asserts. Two measurements, each against a reference timed in the same
run, alternating the two so that a busy machine slows both alike:

1. One epoch of the bundled ``circle`` scenario (its ``playground`` variant: TensorFlow
   Playground's defaults, [2, 4, 2, 1], tanh hidden and output, quadratic cost, U(-0.5, 0.5)
   weights and 0.1 biases, plain SGD with lr 0.03, mini-batches of 10, 250 training points, a
   new shuffle every epoch). gdlab through the network kind, as ``gdlab run`` trains it: the
   epoch records' own seconds (shuffle, mini-batches, steps) and the whole epoch with its
   evaluation of both sets and the layers' speeds; and DenseNet + engine.optim SGD in a bare
   loop. PyTorch: nn.Sequential + torch.optim.SGD in a plain loop (zero_grad, forward, cost,
   backward, step), in float64 (the same arithmetic as gdlab) and in float32 (its default).
2. The decision boundary: the network's output on a 200 x 100 grid of the input plane
   (DenseNet.output_grid), against one torch.no_grad() forward pass of the same grid; also with
   the grid's features computed (Dataset.plane_grid), for Playground's largest network, and the
   whole of what ``--plot`` computes and draws (engine.models.surface + tui.heatmap).

MNIST through the kind is bench/bench_mnist.py's (--reference DIR times another tree, e.g. main
before this change, in the same run).

    OPENBLAS_NUM_THREADS=1 python bench/bench_network.py [--repeats 5]

BLAS and torch run with one thread (set here before numpy is imported unless the environment
says otherwise): these matrices are far too small for a second thread to help.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.data.network_data import dataset_from_table  # noqa: E402
from engine.kinds.network import NetworkScenario, NetworkStream  # noqa: E402
from engine.models.config import dense_config_from_table  # noqa: E402
from engine.models.dense import DenseNet  # noqa: E402
from engine.optim import make_optimizer  # noqa: E402
from engine.records import EpochRecord  # noqa: E402
from engine.scenario import load_scenario  # noqa: E402

PLAYGROUND = {"layers": [2, 4, 2, 1], "activation": "tanh", "output": "tanh",
              "cost": "quadratic", "init": "uniform", "seed": 1}
LR, BATCH = 0.03, 10


def stats(times: list[float]) -> tuple[float, float]:
    return min(times), statistics.median(times)


# --- 1. one epoch of circle --------------------------------------------------------------


def gdlab_epoch_runner(ds) -> tuple:
    net = DenseNet(dense_config_from_table(PLAYGROUND, "bench"))
    opt = make_optimizer("sgd", LR)
    X, T = ds.X_train, net.targets(ds.y_train)
    rng = np.random.default_rng(0)
    steps = [(name, p, net.grads[name]) for name, p in net.params.items()]
    n = X.shape[0]

    def epoch() -> None:
        perm = rng.permutation(n)
        Xs, Ts = X[perm], T[perm]
        backward, step = net.backward, opt.step
        with np.errstate(over="ignore"):
            for b in range(0, n, BATCH):
                backward(Xs[b : b + BATCH], Ts[b : b + BATCH])
                for name, p, g in steps:
                    step(name, p, g)

    return epoch, net


def torch_epoch_runner(ds, net: DenseNet, dtype_name: str):
    import torch

    dtype = getattr(torch, dtype_name)
    model = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2),
                                torch.nn.Tanh(), torch.nn.Linear(2, 1), torch.nn.Tanh()).to(dtype)
    with torch.no_grad():  # the same initial weights as gdlab's network
        for i, layer in enumerate([model[0], model[2], model[4]], start=1):
            layer.weight.copy_(torch.tensor(net.params[f"W{i}"]))
            layer.bias.copy_(torch.tensor(net.params[f"b{i}"]))
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    X = torch.tensor(ds.X_train, dtype=dtype)
    T = torch.tensor(net.targets(ds.y_train), dtype=dtype)
    n = X.shape[0]
    gen = torch.Generator().manual_seed(0)

    def epoch() -> None:
        perm = torch.randperm(n, generator=gen)
        Xs, Ts = X[perm], T[perm]
        for b in range(0, n, BATCH):
            opt.zero_grad()
            out = model(Xs[b : b + BATCH])
            cost = 0.5 * ((out - Ts[b : b + BATCH]) ** 2).sum(dim=1).mean()
            cost.backward()
            opt.step()

    return epoch


def kind_epochs(count: int) -> tuple[float, float]:
    """``count`` epochs of circle [playground] through the network kind: (the epoch records'
    mean seconds, the wall seconds per epoch of the whole stream with its evaluations)."""
    sc = load_scenario("circle", [f"run.epochs={count}"])
    assert isinstance(sc, NetworkScenario)
    stream = NetworkStream(sc, "playground")
    start = time.perf_counter()
    seconds = [r.seconds for r in stream if isinstance(r, EpochRecord) and r.epoch > 0]
    wall = (time.perf_counter() - start) / count
    return sum(seconds) / len(seconds), wall


def time_epochs(epoch, count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        epoch()
    return (time.perf_counter() - start) / count


def bench_circle(repeats: int, epochs: int) -> None:
    ds = load_scenario("circle").dataset("playground")
    print(f"## One epoch of circle: {len(ds.y_train)} training points, [2, 4, 2, 1] tanh, "
          f"batch {BATCH}, SGD lr {LR}")
    gd_epoch, net = gdlab_epoch_runner(ds)
    runners = {"gdlab (float64)": gd_epoch}
    try:
        import torch

        torch.set_num_threads(1)
        for dt in ("float64", "float32"):
            runners[f"PyTorch {torch.__version__} ({dt})"] = torch_epoch_runner(ds, net, dt)
    except ImportError:
        print("torch is not installed: no PyTorch reference (pip install torch)")
    for run in runners.values():  # warm up
        time_epochs(run, 20)
    kind_epochs(20)
    kind, whole = "gdlab, the kind: training", "gdlab, the kind: with evaluation"
    times: dict[str, list[float]] = {k: [] for k in [kind, whole, *runners]}
    for _ in range(repeats):
        train_s, wall_s = kind_epochs(epochs)
        times[kind].append(train_s)
        times[whole].append(wall_s)
        for name, run in runners.items():
            times[name].append(time_epochs(run, epochs))
    print(f"best (median) of {repeats} alternated runs of {epochs} epochs, seconds per epoch:")
    torch_names = [k for k in times if k.startswith("PyTorch")]
    for name, t in times.items():
        best, med = stats(t)
        ratios = "".join(f"   / {k.split()[-1]} = {best / stats(times[k])[0]:.3f}x"
                         for k in torch_names if not name.startswith("PyTorch"))
        print(f"  {name:34s} {best * 1e3:8.3f} ms ({med * 1e3:.3f}){ratios}")
    print("  (the kind: training = the epoch records' seconds; with evaluation = the stream's "
          "wall time per epoch, both sets evaluated and the layers' speeds measured)")
    print()


# --- 2. the decision boundary --------------------------------------------------------------


def time_calls(fn, count: int) -> list[float]:
    out = []
    for _ in range(count):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def bench_grid(repeats: int) -> None:
    print("## Decision boundary: the output on a 200 x 100 grid (20,000 points)")
    cases = [
        ("[2, 4, 2, 1] tanh, features x1, x2", PLAYGROUND, None),
        ("[2, 8 x 6, 1] tanh (Playground's largest)",
         {**PLAYGROUND, "layers": [2, 8, 8, 8, 8, 8, 8, 1]}, None),
        ("[7, 8 x 6, 1] tanh, 7 features", {**PLAYGROUND, "layers": [7, 8, 8, 8, 8, 8, 8, 1]},
         ["x1", "x2", "x1**2", "x2**2", "x1*x2", "sin(x1)", "sin(x2)"]),
    ]
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        torch = None
    count = 20 * repeats
    for label, model_table, features in cases:
        table = {"source": "spiral"} | ({"features": features} if features else {})
        ds = dataset_from_table(table, ROOT, "bench")
        net = DenseNet(dense_config_from_table(model_table, "bench"))
        _, _, grid = ds.plane_grid(200, 100)
        net.output_grid(grid)
        with_features = stats(time_calls(lambda ds=ds, net=net: net.output_grid(
            ds.plane_grid(200, 100)[2]), count))
        alone = stats(time_calls(lambda net=net, grid=grid: net.output_grid(grid), count))
        line = (f"  {label:44s} output_grid {alone[0] * 1e3:6.3f} ms ({alone[1] * 1e3:.3f}),"
                f" with plane_grid {with_features[0] * 1e3:6.3f} ms")
        if torch is not None:
            layers = []
            sizes = model_table["layers"]
            for i in range(1, len(sizes)):
                lin = torch.nn.Linear(sizes[i - 1], sizes[i]).double()
                with torch.no_grad():
                    lin.weight.copy_(torch.tensor(net.params[f"W{i}"]))
                    lin.bias.copy_(torch.tensor(net.params[f"b{i}"]))
                layers += [lin, torch.nn.Tanh()]
            model = torch.nn.Sequential(*layers)
            G = torch.tensor(grid)

            def forward(model=model, G=G) -> None:
                with torch.no_grad():
                    model(G)

            forward()
            tt = stats(time_calls(forward, count))
            with torch.no_grad():
                diff = float(np.max(np.abs(model(G).numpy() - net.output_grid(grid))))
            line += (f"; PyTorch forward {tt[0] * 1e3:6.3f} ms ({tt[1] * 1e3:.3f}), "
                     f"gdlab / PyTorch {alone[0] / tt[0]:.2f}x, max |difference| {diff:.1e}")
        print(line)
    print(f"  (best (median) of {count} calls, float64)")
    print()


def bench_plot(repeats: int) -> None:
    """What --plot adds after training circle: the surface (64 x 64 points through the network)
    and the heat map drawn with the points over it, as text with colour escapes."""
    from engine.models.surface import decision_surface
    from tui.network_plots import MAP_COLUMNS, MAP_ROWS, boundary_text

    sc = load_scenario("circle", ["run.epochs=5"])
    assert isinstance(sc, NetworkScenario)
    stream = NetworkStream(sc, "playground")
    for _ in stream:
        pass

    def draw() -> None:
        s = decision_surface(stream.net, stream.data, MAP_COLUMNS, 2 * MAP_ROWS)
        boundary_text(s, "decision boundary", True)

    draw()
    best, med = stats(time_calls(draw, 10 * repeats))
    print(f"## --plot's decision boundary of circle: {MAP_COLUMNS} x {2 * MAP_ROWS} points, "
          f"500 points drawn over it: {best * 1e3:.1f} ms ({med * 1e3:.1f})")
    print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=100, help="circle epochs per timed run")
    args = ap.parse_args()
    print(f"# command: python bench/bench_network.py {' '.join(sys.argv[1:])}".rstrip())
    print(f"# python {platform.python_version()}, numpy {np.__version__}, "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}, {os.cpu_count()} cores")
    print()
    bench_circle(args.repeats, args.epochs)
    bench_grid(args.repeats)
    bench_plot(args.repeats)


if __name__ == "__main__":
    main()
