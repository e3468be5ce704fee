"""Benchmark gdlab's MNIST networks against PyTorch (CPU) and a network.py-style per-example loop.

Prints figures, never asserts. Every measurement runs in a fresh subprocess whose environment
fixes the BLAS thread count before numpy is imported (OPENBLAS_NUM_THREADS, OMP_NUM_THREADS,
MKL_NUM_THREADS; torch.set_num_threads to match) and drops OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE (which, when set, force a slower OpenBLAS kernel); the kernel that runs is
reported.

    python bench/bench_mnist.py                     # speed (1 and 2 threads), memory
    python bench/bench_mnist.py --accuracy          # and the two scenarios on the full data
    python bench/bench_mnist.py --threads 1 --repeats 3 --accuracy --seeds 1 2 3 --ce-seeds 1 2

Data: $GDLAB_MNIST_DIR or /work/shared/data/mnist (the four IDX .gz files), read with
engine.data.mnist.load_mnist when it is importable, else with a few lines (mnist_workers.py).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from mnist_workers import CONFIGS, WORKERS  # this folder: the workers

# --- the driver --------------------------------------------------------------------------


def run_worker(mode: str, threads: int, *extra: str) -> dict[str, Any]:
    """Run this script as ``--worker mode`` in a subprocess with ``threads`` BLAS threads."""
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)  # both together: they force a slower OpenBLAS kernel
    env.pop("OPENBLAS_L2_SIZE", None)
    for key in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[key] = str(threads)
    cmd = [sys.executable, __file__, "--worker", mode, "--threads", str(threads), *extra]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"worker {mode} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def print_reference(times: dict[tuple[int, str], dict[str, list[float]]],
                    args: argparse.Namespace) -> None:
    """This tree against the --reference tree: epoch seconds (wall, train()'s own clock), the
    CPU seconds of a one-epoch run (training and every evaluation) and the CPU per further
    epoch (the slope between a one-epoch and an E-epoch run), best of the runs."""
    e = args.epochs
    print(f"\n## this tree against {args.reference} (same run, alternated)\n")
    print("| threads | network, batch | epoch s (wall): this / reference | CPU s of a 1-epoch "
          f"run: this / reference | CPU s per further epoch (slope 1 -> {e}): this / reference |")
    print("| ---: | --- | ---: | ---: | ---: |")
    for t in args.threads:
        for label, *_ in CONFIGS:
            mine, ref = times[(t, "gdlab")], times[(t, "reference")]
            a, b = min(mine[label]), min(ref[label])
            one_a, one_b = min(mine[f"cpu1:{label}"]), min(ref[f"cpu1:{label}"])
            slope_a = (min(mine[f"cpu:{label}"]) - one_a) / (e - 1)
            slope_b = (min(ref[f"cpu:{label}"]) - one_b) / (e - 1)
            print(f"| {t} | {label} | {a:.3f} / {b:.3f} = {a / b:.2f}x | {one_a:.2f} / "
                  f"{one_b:.2f} = {one_a / one_b:.2f}x | {slope_a:.3f} / {slope_b:.3f} = "
                  f"{slope_a / slope_b:.2f}x |")


def cpu_steal() -> tuple[int, int]:
    """Return (steal, total) jiffies of /proc/stat: time the host gave this VM's CPUs away."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return (fields[7] if len(fields) > 7 else 0), sum(fields)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, nargs="*", default=[1, 2],
                   help="BLAS/torch thread counts to compare (default: 1 2)")
    p.add_argument("--epochs", type=int, default=3,
                   help="timed epochs per configuration and worker run (default 3)")
    p.add_argument("--repeats", type=int, default=2,
                   help="gdlab and PyTorch worker runs, alternated (default 2)")
    p.add_argument("--loop-examples", type=int, default=3000,
                   help="examples the network.py loop is timed on (scaled to 60,000)")
    p.add_argument("--accuracy", action="store_true", help="also train both scenarios fully")
    p.add_argument("--seeds", type=int, nargs="*", default=[1, 2],
                   help="seeds of the mnist_mlp accuracy runs (default 1 2)")
    p.add_argument("--ce-seeds", type=int, nargs="*", default=[1],
                   help="seeds of the mnist_mlp_ce accuracy runs (default 1)")
    p.add_argument("--reference", metavar="DIR",
                   help="another gdlab tree (e.g. an export of main) timed in the same run, "
                        "alternated with this one: before/after figures")
    p.add_argument("--skip-torch", action="store_true",
                   help="time gdlab only (with --reference: the before/after figures alone)")
    p.add_argument("--root", default=None, help=argparse.SUPPRESS)
    p.add_argument("--slope", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--scenario", default="mnist_mlp", help=argparse.SUPPRESS)
    p.add_argument("--variant", default=None, help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--run-epochs", type=int, default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.reference and args.epochs < 2 and not args.worker:
        p.error("--reference needs --epochs >= 2 (the CPU per epoch is a slope)")
    if args.worker:
        args.threads = args.threads[0]
        print(json.dumps(WORKERS[args.worker](args)))
        return
    extra = ["--epochs", str(args.epochs), "--loop-examples", str(args.loop_examples)]
    info = run_worker("info", args.threads[0])
    steal0 = cpu_steal()
    print(f"# command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"# machine: nproc={info['nproc']}, {info['cpu']}; python {info['python']}, "
          f"numpy {info['numpy']} ({info['blas']}, kernel {info['kernel']}), "
          f"torch {info['torch']}")
    n = args.epochs * args.repeats
    print(f"# epoch seconds of 60,000 images, plain SGD, float32: best (median) of {n} epochs "
          f"from {args.repeats} alternated worker runs per library; ratio of the bests")
    times: dict[tuple[int, str], dict[str, list[float]]] = {}
    skipped = None
    libs = ["gdlab"] + ([] if args.skip_torch else ["torch"]) + \
        (["reference"] if args.reference else [])
    if args.skip_torch:
        skipped = "PyTorch not timed (--skip-torch)"
    for _ in range(args.repeats):
        for t in args.threads:
            for lib in libs:
                slope = ["--slope"] if args.reference and lib != "torch" else []
                if lib == "reference":
                    r = run_worker("gdlab", t, *extra, *slope, "--root", args.reference)
                else:
                    r = run_worker(lib, t, *extra, *slope)
                if "skipped" in r:
                    skipped = r["skipped"]
                    continue
                for label, secs in r.items():
                    times.setdefault((t, lib), {}).setdefault(label, []).extend(
                        secs if isinstance(secs, list) else [secs])
    for t in args.threads:
        print(f"\n## {t} thread(s)\n")
        print("| network, batch | gdlab s/epoch | PyTorch s/epoch | gdlab / PyTorch |")
        print("| --- | ---: | ---: | ---: |")
        for label, *_ in CONFIGS:
            g = times[(t, "gdlab")][label]
            cell = f"{min(g):.3f} ({statistics.median(g):.3f})"
            if skipped:
                print(f"| {label} | {cell} | - | - |")
            else:
                tt = times[(t, "torch")][label]
                print(f"| {label} | {cell} | {min(tt):.3f} ({statistics.median(tt):.3f}) | "
                      f"{min(g) / min(tt):.2f}x |")
    if args.reference:
        print_reference(times, args)
    if skipped:
        print(f"\n{skipped}")
    loops = [run_worker("loop", 1, *extra) for _ in range(args.repeats)]
    loop = min(loops, key=lambda r: r["epoch_seconds"])
    g1 = min(times[(1 if 1 in args.threads else args.threads[0], "gdlab")][CONFIGS[0][0]])
    print("\n## network.py-style per-example loop, [784,30,10], batch 10, float64, 1 thread\n")
    print(f"best of {args.repeats}: {loop['examples']} examples in {loop['seconds']:.2f} s -> "
          f"{loop['epoch_seconds']:.2f} s/epoch; gdlab (batch 10, same network) is "
          f"{loop['epoch_seconds'] / g1:.1f}x faster")
    steal1 = cpu_steal()
    steal = (steal1[0] - steal0[0]) / max(1, steal1[1] - steal0[1])
    print(f"\nCPU steal time during the speed runs: {steal:.1%} (host contention)")
    mem = run_worker("memory", args.threads[0])
    print("\n## memory (ru_maxrss, one full-data epoch of mnist_mlp_ce with evaluation)\n")
    print(f"after imports {mem['after_imports_mb']:.0f} MB, after loading MNIST "
          f"{mem['after_loading_mb']:.0f} MB, peak {mem['peak_mb']:.0f} MB")
    if args.accuracy:
        print("\n## accuracy on the full data (test accuracy per epoch)\n")
        runs = [("mnist_mlp", s) for s in args.seeds]
        runs += [("mnist_mlp_ce", s) for s in args.ce_seeds]
        for name, seed in runs:
            r = run_worker("accuracy", args.threads[0], "--scenario", name, "--seed", str(seed))
            accs = [e["test_accuracy"] for e in r["epochs"]]
            best = max(accs)
            print(f"- {name} seed {r['seed']}: final {accs[-1]:.2%}, best {best:.2%} (epoch "
                  f"{accs.index(best) + 1}), epochs: {' '.join(f'{a:.4f}' for a in accs)}; "
                  f"{r['summary']['seconds']:.1f} s of training, peak RSS "
                  f"{r['peak_mb']:.0f} MB")


if __name__ == "__main__":
    main()
