"""``gdlab sweep``: formats, --out, --resume, --plot, --seeds, bad input, Ctrl-C, a cluster."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import GD_SQUARE, write
from tui.cli import main

ROOT = Path(__file__).resolve().parent.parent
LR = ["sweep", "learning_rate_sweep", "--grid", "run.lr=0.25,0.5,0.75,1.0,1.1", "--workers", "1"]


def steps(lr: float) -> int:
    """J = 1.44 (1 - 2 lr)^(2n) <= 1e-6 first at this n (lr 0.5: x_1 = 0, one step)."""
    r = abs(1 - 2 * lr)
    return 1 if r == 0 else math.ceil(math.log(1e-6 / 1.44) / (2 * math.log(r)))


def test_table_rows_in_grid_order_with_stop_reasons_and_the_best(capsys):
    assert main(LR) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["run.lr", "iterations_to:1e-6", "stop"]
    rows = [line.split()[:3] for line in out[2:7]]
    assert rows[:3] == [["0.25", str(steps(0.25)), "converged"], ["0.5", "1", "converged"],
                        ["0.75", str(steps(0.75)), "converged"]]
    assert rows[3] == ["1.0", "-", "max_iterations"] and rows[4][:3] == ["1.1", "-", "diverged"]
    assert "'J' became inf" in out[6]  # the gradient's norm does not overflow first
    assert "5 runs: 3 converged, 1 max_iterations, 1 diverged" in out
    assert "best (lowest iterations_to:1e-6): run.lr = 0.5 -> 1" in out


def test_csv_and_jsonl_hold_the_full_rows(capsys):
    assert main([*LR, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["run.lr"] for r in rows] == ["0.25", "0.5", "0.75", "1.0", "1.1"]
    assert rows[1]["iterations_to:1e-6"] == "1" and rows[3]["iterations_to:1e-6"] == ""
    assert main([*LR, "--format", "jsonl"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [r["settings"] for r in lines] == [{"run.lr": v} for v in (0.25, 0.5, 0.75, 1.0, 1.1)]
    first = lines[0]
    assert set(first) == {"scenario", "variant", "metric", "set", "settings", "seed", "value",
                          "stop_reason", "message", "summary", "timing"}
    assert first["set"] == []
    assert first["value"] == steps(0.25) and first["summary"]["updates"] == steps(0.25)
    assert first["seed"] == 0 and set(first["timing"]) == {"seconds", "cpu_seconds"}


def test_out_is_written_whole_and_never_replaced_without_force(tmp_path, capsys):
    out = tmp_path / "s.jsonl"
    assert main([*LR, "--format", "jsonl", "--out", str(out)]) == 0
    assert len(out.read_text().splitlines()) == 5 and capsys.readouterr().out == ""
    assert main([*LR, "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main([*LR, "--out", str(out), "--force"]) == 0
    assert out.read_text().startswith("run.lr")


def test_resume_skips_rows_it_has_and_appends_the_rest(tmp_path, capsys):
    rows = tmp_path / "rows.jsonl"
    assert main([*LR, "--format", "jsonl", "--out", str(tmp_path / "full.jsonl")]) == 0
    full = (tmp_path / "full.jsonl").read_text().splitlines()
    rows.write_text("\n".join(full[:2]) + "\n")  # as if stopped after two points
    capsys.readouterr()
    assert main([*LR, "--resume", str(rows), "--format", "jsonl"]) == 0
    res = capsys.readouterr()
    assert "2 already in" in res.err

    def strip(lines: list[str]) -> list[dict]:
        return [{k: v for k, v in json.loads(x).items() if k != "timing"} for x in lines]

    assert strip(res.out.splitlines()) == strip(full)  # the whole sweep, in grid order
    assert strip(rows.read_text().splitlines()) == strip(full)  # the file now holds all
    assert main([*LR, "--resume", str(rows)]) == 0  # nothing left: nothing run or appended
    assert len(rows.read_text().splitlines()) == 5
    assert main([*LR, "--resume", str(rows), "--out", str(rows)]) == 2
    assert "name the same file" in capsys.readouterr().err
    assert main([*LR, "--metric", "updates", "--resume", str(rows)]) == 2
    assert "from another sweep (metric" in capsys.readouterr().err
    assert main([*LR, "--set", "run.max_iterations=50", "--resume", str(rows)]) == 2
    assert "line 1 is from another sweep (set [], this sweep: ['run.max_iterations=50'])" in \
        capsys.readouterr().err


def test_seeds_give_mean_and_spread_per_point(capsys):
    """Mini-batches of 20 from 200 shuffled points: each seed takes another path, so the
    final loss differs between seeds while every run still fits the line."""
    args = ["sweep", "regression_linear", "--variant", "minibatch", "--grid", "run.lr=0.1,0.5",
            "--seeds", "3", "--metric", "final_loss", "--workers", "1"]
    assert main([*args, "--format", "jsonl"]) == 0
    runs = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [(r["settings"]["run.lr"], r["seed"]) for r in runs] == \
        [(0.1, 1), (0.1, 2), (0.1, 3), (0.5, 1), (0.5, 2), (0.5, 3)]  # the variant's seed 1
    assert len({r["value"] for r in runs[:3]}) == 3
    assert main([*args, "--format", "csv"]) == 0
    pts = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    vals = [r["value"] for r in runs[:3]]
    mean = sum(vals) / 3
    assert float(pts[0]["mean final_loss"]) == pytest.approx(mean, rel=1e-12)
    std = math.sqrt(sum((v - mean) ** 2 for v in vals) / 3)
    assert float(pts[0]["std"]) == pytest.approx(std, rel=1e-9)
    assert float(pts[0]["min"]) == min(vals) and float(pts[0]["max"]) == max(vals)
    assert pts[0]["runs"] == "3" and pts[0]["values"] == "3"


@pytest.mark.parametrize("args, says", [
    (["--grid", "run.lrr=1,2"], "[run] unknown key 'lrr'"),
    (["--grid", "run.lr=0.1,,2"], "--grid run.lr: an empty item"),
    (["--grid", "run.lr=-1"], "sweep value run.lr=-1"),
    (["--grid", "lr=1"], "'lr' is not TABLE.KEY"),
    (["--grid", "run.lr=0.1", "--metric", "accuracy"], "unknown metric 'accuracy' for a graph "
                                                       "scenario (available: updates"),
    (["--grid", "run.lr=0:1:0.0005"], "2,001 runs (2001), more than the limit of 1,000"),
    (["--grid", "run.lr=0.1," + "[" * 5000], "--grid run.lr: '[[[[[[[[[[[[[[[[[[[[[[[[[[[[["),
    (["--grid", "run.lr=0.1", "--seeds", "0"], "--seeds: expected an integer >= 1"),
    (["--grid", "run.lr=0.1", "--workers", "0"], "--workers: expected an integer >= 1"),
    ([], "nothing to sweep"),
])
def test_bad_input_is_one_line_and_status_2(args, says, capsys):
    assert main(["sweep", "gd_square", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gdlab: error: ") and err.count("\n") == 1 and says in err


def test_a_large_grid_runs_with_force(capsys):
    assert main(["sweep", "gd_square", "--grid", "run.lr=0:1.0005:0.0005", "--workers", "1",
                 "--force", "--format", "csv"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1 + 2002  # header, 0 to 1.0005


def test_plot_one_key_is_a_line_and_two_keys_a_heat_map_without_escapes(capsys):
    assert main([*LR, "--plot"]) == 0
    out = capsys.readouterr().out
    assert "iterations_to:1e-6 against run.lr" in out and "\x1b" not in out
    # lr 1.1 diverges, lr 1.0 never reaches the tolerance: marks along the top, not numbers
    chart = out[out.index("iterations_to:1e-6 against run.lr"):].splitlines()
    assert "xx diverged" in out and "?? no value" in out and "** best" in out
    assert re.search(r"\? +x│$", chart[2].rstrip())  # the top row ends: lr 1.0, then lr 1.1
    assert main(["sweep", "momentum_map", "--grid", "run.lr=0.005,0.0325,0.05",
                 "--grid", "run.momentum=0,0.7", "--workers", "1", "--plot"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    pic = out[out.index("iterations_to:1e-6 over run.lr"):].splitlines()
    top, bottom = pic[2], pic[3]  # momentum 0.7 on top, 0 below
    assert top.split()[0] == "0.7" and bottom.split()[0] == "0"
    assert "★" in top and "✕" in top and "✕" in bottom  # lr 0.05 diverges at both momenta
    assert "★ best: run.lr = 0.0325, run.momentum = 0.7" in out


def test_plot_in_colour_on_a_terminal_unless_no_color(monkeypatch, capsys):
    from tui import sweep_plot

    monkeypatch.setattr(sweep_plot, "color_wanted", lambda stream=None: True)
    monkeypatch.setattr("tui.sweep_cli.color_wanted", lambda stream=None: True)
    assert main(["sweep", "momentum_map", "--grid", "run.lr=0.005,0.05",
                 "--grid", "run.momentum=0,0.7", "--workers", "1", "--plot"]) == 0
    assert "\x1b[48;2;200;40;40m" in capsys.readouterr().out  # the diverged cells' red
    monkeypatch.undo()
    monkeypatch.setenv("NO_COLOR", "1")
    assert not sweep_plot.color_wanted(sys.stdout)


def test_a_sweep_table_in_a_scenario_file_and_check(tmp_path, capsys):
    path = write(tmp_path / "s.toml", GD_SQUARE.replace("tolerance = 1e-3", "tolerance = 1e-6")
                 + '[sweep]\nmetric = "updates"\ngrid = { "run.lr" = [0.25, 0.5] }\n')
    assert main(["check", str(path)]) == 0
    assert main(["sweep", str(path), "--workers", "1", "--format", "csv"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("ok: ") and out[0].endswith("a sweep of 2 runs)")
    assert out[2:] == [f"0.25,{steps(0.25)},converged,", "0.5,1,converged,"]
    bad = write(tmp_path / "bad.toml", path.read_text().replace("[0.25, 0.5]", "[0.25, -1]"))
    assert main(["check", str(bad)]) == 2
    assert "sweep value run.lr=-1" in capsys.readouterr().err
    deep = write(tmp_path / "deep.toml", path.read_text().replace("[0.25, 0.5]",
                                                                    '"0.25,' + "[" * 5000 + '"'))
    assert main(["check", str(deep)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "expected a single value" in err and "Traceback" not in err
    typo = write(tmp_path / "typo.toml", path.read_text().replace('"updates"', '"update"'))
    assert main(["check", str(typo)]) == 2
    assert "unknown metric 'update' for a graph scenario" in capsys.readouterr().err


def test_an_unreachable_cluster_is_one_line_within_seconds(capsys):
    import socket

    pytest.importorskip("distributed", reason="the cluster extra is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.monotonic()
    assert main([*LR[:4], "--cluster", f"tcp://127.0.0.1:{port}"]) == 2
    assert time.monotonic() - t0 < 20  # the connect timeout is 3 s; Dask's default 30 s
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no Dask scheduler answered within 3 s" in err


def test_the_cluster_gives_the_rows_of_one_worker(tmp_path):
    distributed = pytest.importorskip("distributed", reason="the cluster extra is not installed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  protocol="tcp", host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        on = tmp_path / "cluster.jsonl"
        assert main([*LR[:4], "--cluster", cluster.scheduler_address, "--format", "jsonl",
                     "--out", str(on)]) == 0
    assert main([*LR, "--format", "jsonl", "--out", str(tmp_path / "one.jsonl")]) == 0

    def strip(p: Path) -> list[dict]:
        return [{k: v for k, v in json.loads(x).items() if k != "timing"}
                for x in p.read_text().splitlines()]

    assert strip(on) == strip(tmp_path / "one.jsonl")


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_keeps_the_finished_rows(tmp_path, workers):
    """The first point (lr 0.5) is done in one step; the second (lr 1.0) would oscillate for
    ten million iterations. Ctrl-C once the first row is in the resume file stops the sweep:
    status 130, the finished row printed and kept, the running point abandoned."""
    rows = tmp_path / "rows.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # Ctrl-C as a terminal delivers it to the process in the foreground, which starts with
    # SIGINT's default action: a process started in the background of a script (the test run
    # itself, say) inherits SIGINT ignored and would never see the signal
    foreground = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
                  "from tui.cli import main; sys.exit(main(sys.argv[1:]))")
    proc = subprocess.Popen(
        [sys.executable, "-c", foreground, "sweep", "learning_rate_sweep", "--grid",
         "run.lr=0.5,1.0", "--set", "run.max_iterations=10000000", "--workers", workers,
         "--resume", str(rows), "--format", "csv"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    deadline = time.monotonic() + 120
    while not (rows.exists() and rows.read_text().endswith("\n")):  # the sweep's own state
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert out.splitlines() == ["run.lr,iterations_to:1e-6,stop,message", "0.5,1,converged,"]
    assert "interrupted: 1 of 2 runs finished" in err and "Traceback" not in err
    assert [json.loads(x)["settings"] for x in rows.read_text().splitlines()] == \
        [{"run.lr": 0.5}]


def test_the_progress_bar_shows_runs_done_left_and_the_time_left(monkeypatch):
    """On a terminal: done/total, the runs left and the time left at the pace so far (a clock
    the test sets)."""
    from tui import progress

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    now = [100.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: now[0])
    out = Tty()
    bar = progress.ProgressBar("sweep", 8, stream=out, unit=" runs", eta=True)
    assert bar.render().endswith("0/8 runs, 8 left")  # no pace yet, no estimate
    now[0] = 130.0
    bar.update(2)  # 15 s a run: 6 runs left take 90 s
    assert out.getvalue().endswith("25.0%  2/8 runs, 6 left, ~1:30 left")
    now[0] = 3700.0
    assert bar.render().endswith("2/8 runs, 6 left, ~3:00:00 left")  # 1800 s a run
    bar.close()  # the last state stays on its line
    assert out.getvalue().endswith("2/8 runs, 6 left, ~3:00:00 left\n")
    quiet = progress.ProgressBar("sweep", 8, stream=io.StringIO(), eta=True)
    quiet.update(3)
    assert quiet.stream.getvalue() == ""  # off a terminal: nothing
