"""The measurements bench_mnist.py runs, each in a fresh subprocess of its own (``--worker``):
gdlab's epochs, PyTorch's, a network.py-style per-example loop, memory, accuracy.

Imported by bench/bench_mnist.py (this folder is on sys.path when it runs as a script).
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import resource
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("GDLAB_MNIST_DIR", "/work/shared/data/mnist"))
# (label, layers, cost, batch size): the four speed configurations
CONFIGS = [
    ("[784,30,10] quadratic, batch 10", [784, 30, 10], "quadratic", 10),
    ("[784,100,10] softmax+CE, batch 10", [784, 100, 10], "cross_entropy", 10),
    ("[784,100,10] softmax+CE, batch 32", [784, 100, 10], "cross_entropy", 32),
    ("[784,100,10] softmax+CE, batch 128", [784, 100, 10], "cross_entropy", 128),
]


def load_data(root: Path = ROOT) -> Any:
    """Return the full MNIST arrays (train (60000, 784) uint8, ...) from DATA_DIR."""
    sys.path.insert(0, str(root))
    try:
        from engine.data.mnist import load_mnist
    except ImportError:
        load_mnist = None
    if load_mnist is not None:
        return load_mnist(DATA_DIR)
    import numpy as np

    def read(name: str, offset: int) -> Any:
        with gzip.open(DATA_DIR / f"{name}.gz") as f:
            return np.frombuffer(f.read(), np.uint8, offset=offset)

    return SimpleNamespace(
        train_images=read("train-images-idx3-ubyte", 16).reshape(-1, 784),
        train_labels=read("train-labels-idx1-ubyte", 8),
        test_images=read("t10k-images-idx3-ubyte", 16).reshape(-1, 784),
        test_labels=read("t10k-labels-idx1-ubyte", 8),
        source=str(DATA_DIR), is_subset=False,
    )


def openblas_kernel() -> str:
    """Return the OpenBLAS core numpy's BLAS runs (e.g. 'SkylakeX'), or '?' if not OpenBLAS."""
    import ctypes
    import glob

    import numpy as np

    libs = glob.glob(os.path.join(os.path.dirname(np.__file__) + ".libs", "*openblas*"))
    for lib in libs:
        dll = ctypes.CDLL(lib)
        for name in ("scipy_openblas_get_corename64_", "openblas_get_corename64_",
                     "openblas_get_corename"):
            fn = getattr(dll, name, None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                return fn().decode()
    return "?"


def worker_info(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np

    info: dict[str, Any] = {"numpy": np.__version__, "kernel": openblas_kernel(),
                            "python": platform.python_version(), "nproc": os.cpu_count()}
    cfg = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    info["blas"] = f"{cfg['name']} {cfg['version']}"
    try:
        import torch

        torch.set_num_threads(args.threads)
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        info["torch_blas"] = "MKL" if torch.backends.mkl.is_available() else "?"
    except ImportError:
        info["torch"] = None
    with open("/proc/cpuinfo") as f:
        info["cpu"] = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")),
                           platform.processor())
    return info


def gdlab_network(layers: list[int], cost: str) -> Any:
    """The network of ``layers`` with N(0, 1/fan_in) weights, sigmoid hidden layers, sigmoid
    output + quadratic cost or softmax + cross-entropy, float32 on uint8 pixels: the dense
    network (engine.models) of this tree, or an older tree's engine/mlp.py MLP."""
    try:
        import numpy as np

        from engine.models.config import dense_config_from_table
        from engine.models.dense import DenseNet
    except ImportError:  # a tree from before the dense network
        from engine.mlp import MLP, MLPConfig

        return MLP(MLPConfig(layers, "sigmoid", cost, "scaled", 0.0, 1))
    table = {"layers": layers, "output": "sigmoid" if cost == "quadratic" else "softmax",
             "cost": cost, "init": "scaled", "seed": 1}
    return DenseNet(dense_config_from_table(table, "bench"), dtype=np.float32,
                    input_scale=1 / 255)


def gdlab_epochs(root: Path, layers: list[int], cost: str, bs: int, epochs: int,
                 data: Any) -> tuple[list[float], float]:
    """(seconds of each training epoch by train()'s own clock, CPU seconds of the whole
    train() call with its evaluations) for the gdlab tree at ``root``: this one (engine.train)
    or an older one (engine.mlp_train, before the scenario kinds), for before/after figures.
    CPU time, because on a shared machine the wall clock moves with the other processes."""
    sys.path.insert(0, str(root))
    try:
        from engine.records import EpochRecord
        from engine.run import RunConfig
        from engine.train import train
    except ImportError:  # a tree from before the scenario kinds
        from engine.mlp import MLPConfig
        from engine.mlp_train import EpochRecord, TrainSettings  # type: ignore[no-redef]
        from engine.mlp_train import train as old_train

        cfg = MLPConfig(layers, "sigmoid", cost, "scaled", 0.0, 1)
        settings = TrainSettings("sgd", 0.1, {}, bs, epochs, report_every=10**9)
        start = time.process_time()
        records = list(old_train(cfg, settings, data))
        cpu = time.process_time() - start
        return [r.seconds for r in records if isinstance(r, EpochRecord)], cpu
    run = RunConfig(optimizer="sgd", lr=0.1, batch_size=bs, epochs=epochs, seed=1,
                    report_every=10**9)
    split = SimpleNamespace(X_train=data.train_images, y_train=data.train_labels,
                            X_test=data.test_images, y_test=data.test_labels, X_val=None,
                            y_val=None, description="")
    net = gdlab_network(layers, cost)
    start = time.process_time()
    records = list(train(net, run, split))
    cpu = time.process_time() - start
    return [r.seconds for r in records if isinstance(r, EpochRecord) and r.epoch > 0], cpu


def worker_gdlab(args: argparse.Namespace) -> dict[str, Any]:
    """Seconds of each training epoch (train()'s own clock) for every configuration, and the
    CPU time of each whole run (``"cpu:" + label``), of the tree at ``--root``."""
    root = Path(args.root) if args.root else ROOT
    data = load_data(root)
    out: dict[str, Any] = {}
    for label, layers, cost, bs in CONFIGS:
        out[label], out[f"cpu:{label}"] = gdlab_epochs(root, layers, cost, bs, args.epochs,
                                                       data)
        if args.slope:  # and a one-epoch run: the difference is the CPU of the other epochs
            out[f"cpu1:{label}"] = gdlab_epochs(root, layers, cost, bs, 1, data)[1]
    return out


def worker_torch(args: argparse.Namespace) -> dict[str, Any]:
    """Seconds per epoch of the same networks, data, batch sizes and plain SGD in PyTorch."""
    try:
        import torch
    except ImportError:
        return {"skipped": "torch is not installed (pip install torch) - PyTorch figures skipped"}
    import numpy as np

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    data = load_data()
    X = torch.from_numpy(data.train_images.astype(np.float32) / np.float32(255.0))
    y = torch.from_numpy(data.train_labels.astype(np.int64))
    onehot = torch.nn.functional.one_hot(y, 10).float()
    rng = np.random.default_rng(0)
    out = {}
    for label, layers, cost, bs in CONFIGS:
        net = torch.nn.Sequential(torch.nn.Linear(layers[0], layers[1]), torch.nn.Sigmoid(),
                                  torch.nn.Linear(layers[1], layers[2]))
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        secs = []
        for _ in range(args.epochs):
            # shuffled float32 copies made outside the clock: PyTorch does not pay for the
            # shuffle nor for the uint8 -> float conversion (gdlab's epochs include both)
            perm = torch.from_numpy(rng.permutation(X.shape[0]))
            Xs, ys, Ys = X[perm].contiguous(), y[perm].contiguous(), onehot[perm].contiguous()
            start = time.perf_counter()
            for i in range(0, X.shape[0], bs):
                opt.zero_grad()
                out_ = net(Xs[i : i + bs])
                if cost == "quadratic":  # sigmoid output, 0.5 ||a - y||^2 averaged over the batch
                    loss = 0.5 * ((torch.sigmoid(out_) - Ys[i : i + bs]) ** 2).sum(1).mean()
                else:
                    loss = torch.nn.functional.cross_entropy(out_, ys[i : i + bs])
                loss.backward()
                opt.step()
            secs.append(time.perf_counter() - start)
        out[label] = secs
    return out


def worker_loop(args: argparse.Namespace) -> dict[str, Any]:
    """Nielsen's network.py (per-example backprop in a Python loop, float64 column vectors) on
    [784, 30, 10], mini-batch 10: time args.loop_examples examples and scale to 60,000."""
    import numpy as np

    data = load_data()
    rng = np.random.default_rng(1)
    sizes = [784, 30, 10]
    biases = [rng.standard_normal((y, 1)) for y in sizes[1:]]
    weights = [rng.standard_normal((y, x)) for x, y in zip(sizes[:-1], sizes[1:], strict=True)]

    def sigmoid(z: Any) -> Any:
        return 1.0 / (1.0 + np.exp(-z))

    def sigmoid_prime(z: Any) -> Any:
        return sigmoid(z) * (1 - sigmoid(z))

    def backprop(x: Any, y: Any) -> tuple[list[Any], list[Any]]:
        nabla_b = [np.zeros(b.shape) for b in biases]
        nabla_w = [np.zeros(w.shape) for w in weights]
        activation = x
        activations = [x]
        zs = []
        for b, w in zip(biases, weights, strict=True):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        delta = (activations[-1] - y) * sigmoid_prime(zs[-1])
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].transpose())
        for l in range(2, len(sizes)):
            z = zs[-l]
            sp = sigmoid_prime(z)
            delta = np.dot(weights[-l + 1].transpose(), delta) * sp
            nabla_b[-l] = delta
            nabla_w[-l] = np.dot(delta, activations[-l - 1].transpose())
        return nabla_b, nabla_w

    def update_mini_batch(mini_batch: list[tuple[Any, Any]], eta: float) -> None:
        nabla_b = [np.zeros(b.shape) for b in biases]
        nabla_w = [np.zeros(w.shape) for w in weights]
        for x, y in mini_batch:
            delta_nabla_b, delta_nabla_w = backprop(x, y)
            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b, strict=True)]
            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w, strict=True)]
        weights[:] = [w - (eta / len(mini_batch)) * nw
                      for w, nw in zip(weights, nabla_w, strict=True)]
        biases[:] = [b - (eta / len(mini_batch)) * nb
                     for b, nb in zip(biases, nabla_b, strict=True)]

    # network.py's data: a list of (x (784, 1) float, y (10, 1) one-hot) pairs, built beforehand
    n = args.loop_examples
    eye = np.eye(10)
    training = [(data.train_images[i].reshape(784, 1) / 255.0, eye[data.train_labels[i]]
                 .reshape(10, 1)) for i in range(n)]
    start = time.perf_counter()
    for k in range(0, n, 10):
        update_mini_batch(training[k : k + 10], 3.0)
    secs = time.perf_counter() - start
    return {"examples": n, "seconds": secs, "epoch_seconds": secs * 60000 / n}


def worker_memory(args: argparse.Namespace) -> dict[str, Any]:
    """Peak RSS (ru_maxrss) of one full-data training epoch of mnist_mlp_ce through the network
    kind, with evaluation: after the imports, after loading MNIST, at the end."""
    sys.path.insert(0, str(ROOT))
    import numpy as np

    from engine.kinds.network import NetworkStream

    os.environ["GDLAB_MNIST_DIR"] = str(DATA_DIR)
    sc = load_scenario("mnist_mlp_ce", None, ["run.epochs=1"])
    variant = sc.default_variant()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    data = sc.dataset(variant)
    loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    stream = NetworkStream(sc, variant, data=data)
    for _ in stream:
        pass
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"after_imports_mb": before / 1024, "after_loading_mb": loaded / 1024,
            "peak_mb": after / 1024, "test_accuracy": stream.summary.final_test_accuracy,
            "numpy": np.__version__}


def load_scenario(name: str, variant: str | None, overrides: list[str] | None = None) -> Any:
    """The bundled network scenario ``name`` (a NetworkScenario), with --set overrides."""
    sys.path.insert(0, str(ROOT))
    from engine.scenario import load_scenario as load

    return load(ROOT / "scenarios" / f"{name}.toml", overrides)


def worker_accuracy(args: argparse.Namespace) -> dict[str, Any]:
    """Train a scenario (optionally another seed/epochs) on the full data through its kind;
    per-epoch figures."""
    from engine.kinds import get
    from engine.records import EpochRecord

    overrides = []
    if args.seed is not None:
        overrides += [f"model.seed={args.seed}", f"run.seed={args.seed}"]
    if args.run_epochs:
        overrides.append(f"run.epochs={args.run_epochs}")
    os.environ["GDLAB_MNIST_DIR"] = str(DATA_DIR)
    sc = load_scenario(args.scenario, args.variant, overrides)
    stream = get("network").stream(sc, args.variant or sc.default_variant())
    epochs = [r.to_json() for r in stream if isinstance(r, EpochRecord) and r.epoch > 0]
    summary = stream.summary.to_json()["summary"]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"epochs": epochs, "summary": summary, "seed": sc.model_config(args.variant).seed,
            "peak_mb": peak}


WORKERS = {"info": worker_info, "gdlab": worker_gdlab, "torch": worker_torch,
           "loop": worker_loop, "memory": worker_memory, "accuracy": worker_accuracy}
