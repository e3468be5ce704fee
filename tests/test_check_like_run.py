"""`gdlab check` makes every check `gdlab run` makes, without training: what one refuses the
other refuses, with the same one line naming the file, and nothing printed before it.

The network kind's checks against the data (the issue's `--set 'model.layers=[100,10]'` on an
MNIST scenario) are tested in tests/test_network_cli.py
(test_layers_that_do_not_fit_the_data_are_refused_before_any_output)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import MISFIT, write

from engine.scenario import bundled_scenarios, load_scenario
from tui.cli import main

# MISFIT (tests/helpers.py) with a variant on the full data and one in mini-batches of 2 rows
MINI = MISFIT + """
[variants.full]

[variants.mini]
batch_size = 2
"""


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """The one line of a refused command (exit 2, nothing on stdout)."""
    rc = main(list(argv))
    out, err = capsys.readouterr()
    assert rc == 2 and out == "", (rc, out, err)
    assert len(err.splitlines()) == 1 and err.startswith("gdlab: error: "), err
    return err


def test_mini_batches_that_do_not_fit_the_graph_are_refused_by_check_as_by_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(write(tmp_path / "misfit.toml", MINI))
    assert main(["run", path, "--variant", "full"]) == 0  # the full batch fits
    capsys.readouterr()
    by_run = refused(capsys, "run", path, "--variant", "mini")
    assert by_run == ("gdlab: error: " + path + ": [graph] node 'p - y (in J)': shapes (4,), "
                      "(2,) do not fit together (operands could not be broadcast together with "
                      "shapes (4,) (2,) ), in a mini-batch of 2 rows (batch_size = 2)\n")
    assert refused(capsys, "compare", path) == by_run
    assert refused(capsys, "check", path) == by_run


def test_check_takes_no_step_and_leaves_the_run_as_it_was(tmp_path: Path) -> None:
    from engine.kinds import get
    from engine.runner import Run

    sc = load_scenario(write(tmp_path / "ok.toml", MINI.replace(
        "p = [1.0, 2.0, 3.0, 4.0]", "p = 1.0")).as_posix())
    get("graph").check(sc)
    checked, fresh = Run(sc, "mini"), Run(sc, "mini")
    checked.check_batches()
    assert [r.to_json() for r in checked.records()] == [r.to_json() for r in fresh.records()]


def test_every_bundled_graph_scenario_passes_check_and_runs(
        capsys: pytest.CaptureFixture[str]) -> None:
    for f in bundled_scenarios():
        if load_scenario(f).kind != "graph":
            continue
        assert main(["check", str(f)]) == 0
        assert main(["run", str(f), "--set", "run.max_iterations=3"]) == 0
    capsys.readouterr()
