"""Write scenarios/data/three_clusters.csv: three Gaussian clusters in the plane, 100 points each.

Class 0 around (-2, -1), class 1 around (2, -1), class 2 around (0, 2), each coordinate with
standard deviation 1.0, drawn by numpy.random.default_rng(3); coordinates rounded to 4 decimals.
The file is bundled (the three_class scenario reads it); this script says how it was made.

    python tools/make_three_clusters.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

CENTRES = [(-2.0, -1.0), (2.0, -1.0), (0.0, 2.0)]
PER_CLASS, STD, SEED = 100, 1.0, 3


def main() -> None:
    rng = np.random.default_rng(SEED)
    rows = []
    for label, (cx, cy) in enumerate(CENTRES):
        pts = rng.normal((cx, cy), STD, (PER_CLASS, 2))
        rows += [(x, y, label) for x, y in pts]
    out = Path(__file__).resolve().parents[1] / "scenarios" / "data" / "three_clusters.csv"
    lines = ["x1,x2,label"] + [f"{x:.4f},{y:.4f},{k}" for x, y, k in rows]
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out} ({len(rows)} rows)")


if __name__ == "__main__":
    main()
