"""Benchmark the dense network (engine.models.dense) against PyTorch (CPU) and engine/mlp.py.

Prints figures, never asserts. Three measurements, each against a reference timed in the same
run, alternating the two so that a busy machine slows both alike:

1. One epoch of ``circle`` with TensorFlow Playground's defaults: [2, 4, 2, 1], tanh hidden and
   output, quadratic cost, Playground's U(-0.5, 0.5) weights and 0.1 biases, plain SGD with
   lr 0.03, mini-batches of 10, 250 training points; a new shuffle every epoch. gdlab: DenseNet
   + engine.optim SGD in a plain loop; PyTorch: nn.Sequential + torch.optim.SGD in a plain loop
   (zero_grad, forward, cost, backward, step), in float64 (the same arithmetic as gdlab) and in
   float32 (PyTorch's default).
2. The decision boundary: the network's output on a 200 x 100 grid of the input plane
   (DenseNet.output_grid), against one torch.no_grad() forward pass of the same grid; also with
   the grid's features computed (Dataset.plane_grid) and for Playground's largest network.
3. One MNIST epoch of [784, 30, 10] (sigmoid, quadratic cost) and of [784, 100, 10] (softmax
   + cross-entropy), batch 10, float32, through engine.train.train with the earlier
   engine/mlp.py MLP and with DenseNet (skipped when the full MNIST or engine/mlp.py is
   missing).

    OPENBLAS_NUM_THREADS=1 python bench/bench_network.py [--repeats 5] [--no-mnist]

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
from engine.models.config import dense_config_from_table  # noqa: E402
from engine.models.dense import DenseNet  # noqa: E402
from engine.optim import make_optimizer  # noqa: E402

MNIST_DIR = Path(os.environ.get("GDLAB_MNIST_DIR", "/work/shared/data/mnist"))
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


def time_epochs(epoch, count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        epoch()
    return (time.perf_counter() - start) / count


def bench_circle(repeats: int, epochs: int) -> None:
    ds = dataset_from_table({"source": "circle", "seed": 1}, ROOT, "bench")
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
    times: dict[str, list[float]] = {k: [] for k in runners}
    for _ in range(repeats):
        for name, run in runners.items():
            times[name].append(time_epochs(run, epochs))
    base = stats(times["gdlab (float64)"])[0]
    print(f"best (median) of {repeats} alternated runs of {epochs} epochs, seconds per epoch:")
    for name, t in times.items():
        best, med = stats(t)
        ratio = "" if name.startswith("gdlab") else f"   gdlab / this = {base / best:.3f}x"
        print(f"  {name:28s} {best * 1e3:8.3f} ms ({med * 1e3:.3f}){ratio}")
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


# --- 3. MNIST against engine/mlp.py ---------------------------------------------------------


MNIST_CASES = [  # (label, layers, output, cost, init, lr)
    ("[784, 30, 10], sigmoid output + quadratic cost, lr 3.0", [784, 30, 10], "sigmoid",
     "quadratic", "normal", 3.0),
    ("[784, 100, 10], softmax output + cross-entropy, lr 0.5", [784, 100, 10], "softmax",
     "cross_entropy", "scaled", 0.5),
]


def bench_mnist(repeats: int) -> None:
    try:
        from engine.mlp import MLP, MLPConfig
    except ImportError:
        print("engine/mlp.py is gone: nothing to compare with")
        return
    from engine.data.mnist import load_mnist
    from engine.data.split import DataSplit
    from engine.records import EpochRecord
    from engine.run import RunConfig
    from engine.train import train

    if not MNIST_DIR.is_dir():
        print(f"no full MNIST at {MNIST_DIR}: skipped (set GDLAB_MNIST_DIR)")
        return
    d = load_mnist(MNIST_DIR)
    data = DataSplit(d.train_images, d.train_labels, d.test_images, d.test_labels)
    for label, layers, output, cost, init, lr in MNIST_CASES:
        print(f"## MNIST {label}, sigmoid hidden layer, batch 10, float32")
        mc = MLPConfig(layers, "sigmoid", "quadratic" if cost == "quadratic" else "cross_entropy",
                       init, 0.0, 1)
        table = {"layers": layers, "output": output, "cost": cost, "init": init, "seed": 1}
        settings = RunConfig(lr=lr, batch_size=10, epochs=2, seed=1, report_every=10**9)
        makers = {
            "engine/mlp.py MLP": lambda mc=mc: MLP(mc),
            "engine.models DenseNet": lambda table=table: DenseNet(
                dense_config_from_table(table, "bench"), dtype=np.float32, input_scale=1 / 255),
        }
        seconds: dict[str, list[float]] = {k: [] for k in makers}
        accuracy: dict[str, list[float]] = {k: [] for k in makers}
        for _ in range(repeats):
            for name, make in makers.items():
                for r in train(make(), settings, data):
                    if isinstance(r, EpochRecord) and r.epoch > 0:
                        seconds[name].append(r.seconds)
                        accuracy[name].append(r.test_accuracy)
        print(f"seconds per 60,000-image epoch (train()'s own clock), best (median) of "
              f"{2 * repeats} epochs from {repeats} alternated runs:")
        ref = stats(seconds["engine/mlp.py MLP"])[0]
        for name in makers:
            best, med = stats(seconds[name])
            print(f"  {name:24s} {best:.3f} s ({med:.3f})   ratio to engine/mlp.py "
                  f"{best / ref:.3f}x   test accuracy after 2 epochs {accuracy[name][-1]:.4f}")
        interleaved(makers, data, lr, 40 * repeats)
        print()


def interleaved(makers: dict, data, lr: float, blocks: int, size: int = 200) -> None:
    """Mini-batch steps (backward + SGD on every parameter) in blocks of ``size`` batches,
    alternating the networks block by block, so that a busy machine slows both alike: the
    median of the per-block ratios is robust where whole epochs are not."""
    nets = {name: make() for name, make in makers.items()}
    X = data.X_train[: size * 10].astype(np.float32) / np.float32(255)
    opt = make_optimizer("sgd", lr)
    per_block: dict[str, list[float]] = {k: [] for k in nets}
    with np.errstate(over="ignore"):
        for _ in range(blocks):
            for name, net in nets.items():
                T = net.targets(data.y_train[: size * 10].astype(np.intp))
                steps = [(k, p, net.grads[k]) for k, p in net.params.items()]
                start = time.perf_counter()
                for b in range(0, size * 10, 10):
                    net.backward(X[b : b + 10], T[b : b + 10])
                    for k, p, g in steps:
                        opt.step(k, p, g)
                per_block[name].append(time.perf_counter() - start)
    names = list(nets)
    ratios = [b / a for a, b in zip(per_block[names[0]], per_block[names[1]], strict=True)]
    us = {k: statistics.median(v) / size * 1e6 for k, v in per_block.items()}
    print(f"  interleaved blocks of {size} mini-batches ({blocks} each): median "
          f"{us[names[0]]:.1f} us vs {us[names[1]]:.1f} us per mini-batch, median ratio "
          f"{statistics.median(ratios):.3f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=100, help="circle epochs per timed run")
    ap.add_argument("--no-mnist", action="store_true")
    args = ap.parse_args()
    print(f"# command: python bench/bench_network.py {' '.join(sys.argv[1:])}".rstrip())
    print(f"# python {platform.python_version()}, numpy {np.__version__}, "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}, {os.cpu_count()} cores")
    print()
    bench_circle(args.repeats, args.epochs)
    bench_grid(args.repeats)
    if not args.no_mnist:
        bench_mnist(max(1, args.repeats // 2))


if __name__ == "__main__":
    main()
