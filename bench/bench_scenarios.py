"""Confirm the long-run figures of the bundled MNIST scenarios' descriptions (too slow for tests).

tests/test_network_scenarios.py confirms every figure a short run can reach; this script runs
the rest through the network kind, as ``gdlab run`` does, and prints each figure as stated and
as measured: the 30-epoch figures on the full MNIST ($GDLAB_MNIST_DIR) and on the bundled subset,
and those of the two earlier MNIST scenarios (mnist_mlp's seeds, mnist_mlp_ce), which must keep
their accuracy. Prints, never asserts; a figure off by more than its tolerance says DIFF.

    OPENBLAS_NUM_THREADS=1 GDLAB_MNIST_DIR=/work/shared/data/mnist python bench/bench_scenarios.py

Tolerance: 0.3 accuracy points (float32 sums differ a little between BLAS builds), else the
rounding of the printed digits.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.kinds import get  # noqa: E402
from engine.records import EpochRecord  # noqa: E402
from engine.scenario import load_scenario  # noqa: E402

TOL = 0.3
FULL = os.environ.get("GDLAB_MNIST_DIR", "/work/shared/data/mnist")
results: list[bool] = []


def accuracies(name: str, variant: str | None, overrides: list[str], full: bool
               ) -> list[tuple[float, float]]:
    """(train %, test %) per epoch from epoch 0, on the full MNIST or the bundled subset."""
    if full:
        os.environ["GDLAB_MNIST_DIR"] = FULL
    else:
        os.environ.pop("GDLAB_MNIST_DIR", None)
        os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp()  # no cached full copy either
    sc = load_scenario(name, overrides)
    start = time.perf_counter()
    out = [(100 * r.train_accuracy, 100 * r.test_accuracy)
           for r in get("network").stream(sc, variant) if isinstance(r, EpochRecord)]
    data = "full MNIST" if full else "bundled subset"
    label = f"{name} [{variant}]" + (f" {' '.join(overrides)}" if overrides else "")
    print(f"  ran {label} on the {data}: {len(out) - 1} epochs in "
          f"{time.perf_counter() - start:.0f} s")
    return out


def figure(name: str, phrase: str, *measured: float, tol: float = TOL) -> None:
    """Print ``phrase`` (numbers in braces) as stated in ``name``'s description and measured
    (``tol``: wider for the figures a description gives as "about")."""
    said = " ".join(load_scenario(name).description.split())
    text = phrase.replace("{", "").replace("}", "")
    stated = [float(x.replace(",", "")) for x in re.findall(r"\{([^}]*)\}", phrase)]
    ok = text in said and all(abs(a - b) <= tol for a, b in zip(stated, measured, strict=True))
    results.append(ok)
    shown = ", ".join(f"{m:.2f}" for m in measured)
    where = "" if text in said else "  (NOT IN THE DESCRIPTION)"
    print(f"{'ok  ' if ok else 'DIFF'} {name}: \"{text}\" - measured {shown}{where}")


def mnist_init(full: bool) -> None:
    large = accuracies("mnist_init", "large", [], full)
    scaled = accuracies("mnist_init", "scaled", [], full)
    if full:
        figure("mnist_init", "after the first epoch large has {87.1}% and scaled {92.6}% test "
               "accuracy", large[1][1], scaled[1][1])
        figure("mnist_init", "after 30 epochs both {96.4}%", large[30][1])
        figure("mnist_init", "after 30 epochs both {96.4}%", scaled[30][1])
    else:
        figure("mnist_init", "{89.5}% and {89.7}% after 30", large[30][1], scaled[30][1])


def mnist_l2(full: bool) -> None:
    plain = accuracies("mnist_l2", "lambda_0", [], full)[30]
    l2 = accuracies("mnist_l2", "lambda_5", [], full)[30]
    if full:
        figure("mnist_l2", "lambda_0 ends at {97.46}% train and {95.28}% test, lambda_5 at "
               "{96.45}% and {95.67}%", *plain, *l2)
        figure("mnist_l2", "the gap shrinks from {2.2} to {0.8} points", plain[0] - plain[1],
               l2[0] - l2[1])
    else:
        figure("mnist_l2", "after 30, {99.26}% against {87.20}% and {96.24}% against {89.80}%",
               *plain, *l2)


def vanishing_gradient() -> None:
    runs = {v: accuracies("vanishing_gradient", v, [], True)
            for v in ("deep", "shallow", "two_hidden")}
    figure("vanishing_gradient", "it gets through: {90.6}% after epoch 1, {96.15}% after 30 "
           "(shallow {96.21}%, two_hidden {96.64}%)", runs["deep"][1][1], runs["deep"][30][1],
           runs["shallow"][30][1], runs["two_hidden"][30][1])


def earlier_scenarios() -> None:
    """The figures of mnist_mlp and mnist_mlp_ce, written before the dense network: kept."""
    s1 = accuracies("mnist_mlp", "lr_3", [], True)
    s2 = accuracies("mnist_mlp", "lr_3", ["model.seed=2", "run.seed=2"], True)
    figure("mnist_mlp", "seeds 1 and 2 here: {95.3}% and {95.1}% after 30 epochs", s1[30][1],
           s2[30][1])
    figure("mnist_mlp", "Watch the first epoch jump to about {91}%", s1[1][1], tol=1.0)
    s3 = accuracies("mnist_mlp", "lr_3", ["model.seed=3", "run.seed=3"], True)
    figure("mnist_mlp", "the run ends at {85.6}%", s3[30][1])
    slow = accuracies("mnist_mlp", "lr_0_1", ["run.epochs=3"], True)
    figure("mnist_mlp", "lr 0.1 crawls ({71}% after 3 epochs)", slow[3][1], tol=0.5)
    ce = accuracies("mnist_mlp_ce", "lr_0_5", [], True)
    figure("mnist_mlp_ce", "about {97.5}% after 5 epochs and about {98}% after 10", ce[5][1],
           ce[10][1], tol=0.5)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=["init", "l2", "vanishing", "earlier"], nargs="*",
                    help="run only these groups (default: all)")
    args = ap.parse_args()
    groups = set(args.only or ["init", "l2", "vanishing", "earlier"])
    print(f"# command: python bench/bench_scenarios.py {' '.join(sys.argv[1:])}".rstrip())
    print(f"# full MNIST: {FULL}; OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    if not Path(FULL).is_dir():
        raise SystemExit(f"no full MNIST at {FULL}: set GDLAB_MNIST_DIR")
    for full in (True, False):
        if "init" in groups:
            mnist_init(full)
        if "l2" in groups:
            mnist_l2(full)
    if "vanishing" in groups:
        vanishing_gradient()
    if "earlier" in groups:
        earlier_scenarios()
    print(f"\n{sum(results)} of {len(results)} figures as stated")


if __name__ == "__main__":
    main()
