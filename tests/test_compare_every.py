"""`gdlab compare --every N` on graph scenarios shows every Nth iteration and the last row of
each variant (its help: "every Nth iteration (and the last)"; the network kind's compare table
already kept each variant's last epoch)."""

from __future__ import annotations

import pytest

from engine.runner import Run
from engine.scenario import load_scenario
from tui.cli import main
from tui.formatting import fmt


def rows(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[int, list[str]]:
    """The compare table's rows by iteration (cells as printed, blanks kept)."""
    assert main(["compare", *argv]) == 0
    lines = capsys.readouterr().out.split("\n\n")[0].splitlines()[3:]
    return {int(line[:4]): line for line in lines}


@pytest.mark.parametrize("every", [2, 4])
def test_every_keeps_each_variants_last_row(capsys: pytest.CaptureFixture[str],
                                            every: int) -> None:
    sc = load_scenario("target_z")
    runs = {v: Run(sc, v).run_all()[0] for v in sc.variants}  # fixed: 0-5, recomputed: 0-3
    lasts = {v: recs[-1].iteration for v, recs in runs.items()}
    assert lasts == {"fixed": 5, "recomputed": 3}
    got = rows(capsys, "target_z", "--every", str(every))
    longest = max(lasts.values())
    assert sorted(got) == sorted({i for i in range(longest + 1) if i % every == 0}
                                 | set(lasts.values()))
    for recs in runs.values():
        last = recs[-1]
        assert fmt(last.output) in got[last.iteration] and last.step == {}
    # the recomputed variant's final row: b and z at convergence, under its own columns
    row3 = got[3].split()
    assert row3[-4:] == [fmt(runs["recomputed"][3].params["b"]), fmt(runs["recomputed"][3].output),
                         fmt(runs["recomputed"][3].delta),
                         fmt(runs["recomputed"][3].factors["b"])]


def test_every_one_and_every_larger_than_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert sorted(rows(capsys, "target_z")) == [0, 1, 2, 3, 4, 5]
    assert sorted(rows(capsys, "target_z", "--every", "100")) == [0, 3, 5]
