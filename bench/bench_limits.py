"""What the largest inputs within gdlab's limits cost: time per step and peak memory.

The limits of engine/limits.py are meant to keep every step within reason. This measures the
worst cases they allow, each in a fresh process (so that its peak resident memory is its
own), against the bundled scenario it grows from, measured in the same run:

1. A network step (a mini-batch of 10, backpropagation and an SGD update) of networks just
   under MAX_PARAMETERS, and of the most units allowed, against Nielsen's [784, 30, 10]; and
   the evaluation of 1,000 examples (in chunks within MAX_ACTIVATIONS).
2. One iteration (forward and backward) of ``regression_linear`` with as many generated
   points as MAX_DATA_ROWS allows, against its 200 points.

    python bench/bench_limits.py [--repeats 20]

Prints figures (median CPU time of ``--repeats`` steps, peak RSS), never asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

ROOT = Path(__file__).resolve().parent.parent
NETWORKS = [
    [784, 30, 10],  # the reference: Nielsen's first network
    [784, 4096, 430, 10],  # MAX_PARAMETERS with the widest first layer
    [784, 1870, 1870, 10],  # MAX_PARAMETERS in two equal hidden layers
    [784, 700, 700, 700, 700, 700, 700, 700, 700, 700, 700, 10],  # and in MAX_HIDDEN_LAYERS
    [784, 4096, 1, 4096, 1, 4096, 10],  # the most units within the parameters
]
POINTS = [200, 1_000_000]  # regression_linear as bundled, and at MAX_DATA_ROWS


def network_case(layers: list[int], repeats: int) -> dict:
    import numpy as np

    from engine.models.config import dense_config_from_table
    from engine.models.dense import DenseNet

    # as the network kind builds an MNIST network: float32, pixels scaled by 1/255
    net = DenseNet(dense_config_from_table({"layers": layers}, "bench"), dtype="float32",
                   n_train=1000, input_scale=1 / 255)
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (1000, layers[0]), dtype=np.uint8)
    y = rng.integers(0, layers[-1], 1000)
    times = []
    with np.errstate(all="ignore"):
        for k in range(repeats):
            rows = slice(10 * k % 1000, 10 * k % 1000 + 10)
            t = time.process_time()
            net.backward(X[rows], y[rows])
            for name, p in net.params.items():
                p -= 0.1 * net.grads[name]
            times.append(time.process_time() - t)
        t = time.process_time()
        net.evaluate(X, y)
        evaluation = time.process_time() - t
    return {"parameters": sum(a * b + b for a, b in zip(layers, layers[1:], strict=False)),
            "step": statistics.median(times), "evaluate_1000": evaluation}


def graph_case(points: int, repeats: int) -> dict:
    from engine.runner import Run
    from engine.scenario import load_scenario

    sc = load_scenario("regression_linear", [f"data.generate.n={points}",
                                             "run.max_iterations=100000"])
    run = Run(sc, None)
    times = []
    for _ in range(repeats):
        t = time.process_time()
        run.step()
        times.append(time.process_time() - t)
    values = sum(int(getattr(v, "size", 1)) for v in run.graph._vals)  # after a forward pass
    return {"values": values, "step": statistics.median(times)}


def child(kind: str, arg: str, repeats: int) -> None:
    out = network_case(json.loads(arg), repeats) if kind == "network" else \
        graph_case(int(arg), repeats)
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def measure(kind: str, arg: str, repeats: int) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", kind, arg, "--repeats",
                           str(repeats)], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(*args.child, args.repeats)
        return
    print(f"python {sys.version.split()[0]}, {args.repeats} steps each, CPU time medians")
    ref = measure("network", json.dumps(NETWORKS[0]), args.repeats)
    for layers in NETWORKS:
        r = ref if layers is NETWORKS[0] else measure("network", json.dumps(layers),
                                                      args.repeats)
        print(f"network {layers}: {r['parameters']:,} weights and biases; step (batch 10) "
              f"{1000 * r['step']:.3g} ms = {r['step'] / ref['step']:.0f}x the reference; "
              f"evaluation of 1,000 examples {r['evaluate_1000']:.3g} s; peak {r['peak_mb']:.0f} MB")
    gref = measure("graph", str(POINTS[0]), args.repeats)
    for points in POINTS:
        r = gref if points == POINTS[0] else measure("graph", str(points), args.repeats)
        print(f"regression_linear, {points:,} points: {r['values']:,} numbers in the graph's "
              f"values; iteration {1000 * r['step']:.3g} ms = {r['step'] / gref['step']:.0f}x "
              f"the 200 points; peak {r['peak_mb']:.0f} MB")


if __name__ == "__main__":
    main()
