"""The headless command line: gdlab run / compare / list / check, in-process and as a real
console script."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import (
    FIXTURES,
    GD_SQUARE_FINAL,
    GD_SQUARE_UPDATES,
    TARGET_Z,
    TZ_FIXED_UPDATES,
    TZ_RECOMPUTED_UPDATES,
    write,
)

from engine.errors import ScenarioError
from tui.cli import main

# the gdlab of the Python running the tests (a gdlab earlier on PATH may be another install)
_BESIDE = Path(sys.executable).parent / "gdlab"
GDLAB = str(_BESIDE) if _BESIDE.exists() else (shutil.which("gdlab") or "gdlab")
B1 = 4.0 - 12.0 / 63.0  # b after the first step of target_z


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def user_error(capsys, *argv: str) -> str:
    rc, out, err = cli(capsys, *argv)
    assert rc == 2, (rc, out, err)
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gdlab: error: "), err
    return lines[0]


# --- run: the table --------------------------------------------------------------------------

def test_run_target_z_table_has_the_tutorial_numbers(capsys):
    rc, out, err = cli(capsys, "run", "target_z")
    assert rc == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["iter", "w", "b", "z", "delta", "dz/db", "step", "b"]
    row0 = lines[2].split()
    assert row0 == ["0", "3.000000", "4.000000", "162.000000", "12.000000", "63.000000",
                    "0.190476"]
    row1 = lines[3].split()
    # b_1 = 4 - 12/63, z(b_1) = 6 b_1^2 + 15 b_1 + 6 = 22082/147, delta_1 = 32/147
    assert row1[:6] == ["1", "3.000000", f"{4 - 12 / 63:.6f}", f"{22082 / 147:.6f}",
                        f"{32 / 147:.6f}", "63.000000"]
    assert row1[2:5] == ["3.809524", "150.217687", "0.217687"]  # the tutorial's numbers
    assert lines[-1] == f"target_z [fixed]: stopped: converged after {TZ_FIXED_UPDATES} updates; " \
                        "final output 150.000000"
    assert len(lines) == 2 + TZ_FIXED_UPDATES + 1 + 1


def test_run_recomputed_variant(capsys):
    rc, out, _ = cli(capsys, "run", "target_z", "--variant", "recomputed")
    assert rc == 0
    assert "60.714286" in out and "1.271311e-06" in out
    assert out.splitlines()[-1].startswith(
        f"target_z [recomputed]: stopped: converged after {TZ_RECOMPUTED_UPDATES} updates")


def test_run_gradient_scenario_table(capsys):
    rc, out, _ = cli(capsys, "run", "gd_square")
    assert rc == 0
    lines = out.splitlines()
    assert lines[0].split() == ["iter", "x", "J", "dJ/dx", "|grad|", "step", "x"]
    assert lines[2].split() == ["0", "1.200000", "1.440000", "2.400000", "2.400000", "0.720000"]
    # x_k = 1.2 * 0.4^k (each step takes lr * 2x = 0.6x); J_4 = (1.2 * 0.4^4)^2 = 0.000944
    assert [ln.split()[1] for ln in lines[2:7]] == [f"{1.2 * 0.4**k:.6f}" for k in range(5)]
    assert lines[-1] == f"gd_square: stopped: converged after {GD_SQUARE_UPDATES} updates; " \
                        f"final output {GD_SQUARE_FINAL:.6f}"
    assert (GD_SQUARE_UPDATES, f"{GD_SQUARE_FINAL:.6f}") == (4, "0.000944")


def test_run_every_thins_the_table_but_keeps_the_last(capsys):
    rc, out, _ = cli(capsys, "run", "target_z", "--every", "2")
    assert rc == 0
    iters = [ln.split()[0] for ln in out.splitlines()[2:-1]]
    assert iters == ["0", "2", "4", "5"]


def test_run_with_set_override(capsys):
    rc, out, _ = cli(capsys, "run", "target_z", "--set", "run.max_iterations=1",
                     "--variant", "recomputed")
    assert rc == 0
    assert "stopped: max_iterations after 1 update;" in out


def test_run_a_scenario_file_by_path(capsys, tmp_path):
    p = write(tmp_path / "mine.toml", TARGET_Z)
    rc, out, _ = cli(capsys, "run", str(p))
    assert rc == 0 and out.splitlines()[-1].startswith("tz: stopped: converged after 3 updates")


def test_run_diverged_message_in_the_stop_line(capsys):
    rc, out, _ = cli(capsys, "run", "gd_square", "--set", "run.lr=1e200")
    assert rc == 0
    assert re.search(r"stopped: diverged after 1 update; .*at iteration 1\)$", out.splitlines()[-1])


# --- run: jsonl and csv ---------------------------------------------------------------------

def test_run_jsonl_exact_keys_and_full_precision(capsys):
    rc, out, _ = cli(capsys, "run", "target_z", "--format", "jsonl", "--variant", "recomputed")
    assert rc == 0
    lines = out.splitlines()
    objs = [json.loads(ln) for ln in lines]
    recs, summary = objs[:-1], objs[-1]
    assert len(recs) == 4
    for r in recs:
        assert list(r) == ["iteration", "params", "values", "factors", "delta", "step"]
    assert [r["iteration"] for r in recs] == [0, 1, 2, 3]
    assert recs[0]["values"] == {"x": 18.0, "y": 9.0, "z": 162.0}
    assert recs[0]["factors"] == {"b": 63.0} and recs[0]["delta"] == 12.0
    assert recs[0]["step"] == {"b": 12.0 / 63.0}
    assert recs[1]["params"]["b"] == B1  # exactly: floats at full precision
    assert recs[1]["values"]["z"] == pytest.approx(22082 / 147, rel=1e-15)
    assert recs[-1]["step"] == {}
    assert list(summary) == ["summary"]
    s = summary["summary"]
    assert set(s) == {"scenario", "variant", "stop_reason", "updates", "final_params",
                      "final_output", "message"}
    assert (s["scenario"], s["variant"], s["stop_reason"], s["updates"]) == \
        ("target_z", "recomputed", "converged", 3)
    assert s["final_params"]["b"] == recs[-1]["params"]["b"]


def test_run_jsonl_gradient_keys(capsys):
    rc, out, _ = cli(capsys, "run", "gd_square", "--format", "jsonl")
    first = json.loads(out.splitlines()[0])
    assert list(first) == ["iteration", "params", "values", "grads", "loss", "lr", "grad_norm",
                           "epoch", "step"]
    assert first["grads"] == {"x": 2.4} and first["lr"] == 0.3 and first["epoch"] == 0


def test_run_csv_parses_with_dictreader(capsys):
    rc, out, _ = cli(capsys, "run", "target_z", "--format", "csv")
    assert rc == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["iteration", "w", "b", "x", "y", "z", "delta", "factor_b", "step_b"]
    assert len(rows) == 6
    assert float(rows[1]["b"]) == B1
    assert float(rows[0]["z"]) == 162.0 and float(rows[0]["factor_b"]) == 63.0
    assert float(rows[0]["step_b"]) == 12.0 / 63.0
    assert rows[-1]["step_b"] == ""
    assert [int(r["iteration"]) for r in rows] == list(range(6))


def test_run_csv_gradient_columns(capsys):
    rc, out, _ = cli(capsys, "run", "gd_square", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["iteration", "x", "J", "loss", "grad_x", "grad_norm", "lr", "epoch",
                             "batch", "step_x"]
    assert float(rows[1]["x"]) == 1.2 - 0.3 * 2.4
    assert rows[0]["batch"] == ""


# --- --out --------------------------------------------------------------------------------

def test_out_writes_the_file_atomically_and_refuses_to_overwrite(capsys, tmp_path):
    target = tmp_path / "run.jsonl"
    rc, out, err = cli(capsys, "run", "target_z", "--format", "jsonl", "--out", str(target))
    assert rc == 0 and out == ""
    assert err.strip() == f"wrote {target}"
    text = target.read_text(encoding="utf-8")
    assert json.loads(text.splitlines()[1])["params"]["b"] == B1
    assert os.listdir(tmp_path) == ["run.jsonl"]  # no temporary file left behind
    # the same text as on stdout
    assert cli(capsys, "run", "target_z", "--format", "jsonl")[1] == text
    # refuses to overwrite without --force: exit 2, file untouched
    target.write_text("precious", encoding="utf-8")
    msg = user_error(capsys, "run", "target_z", "--out", str(target))
    assert "already exists" in msg and str(target) in msg
    assert target.read_text(encoding="utf-8") == "precious"
    # --force overwrites
    rc, _, _ = cli(capsys, "run", "target_z", "--format", "csv", "--out", str(target), "--force")
    assert rc == 0
    assert target.read_text(encoding="utf-8").startswith("iteration,w,b,")
    assert sorted(os.listdir(tmp_path)) == ["run.jsonl"]


def test_out_equals_stdout(capsys, tmp_path):
    _, stdout_text, _ = cli(capsys, "compare", "target_z", "--format", "csv")
    target = tmp_path / "c.csv"
    cli(capsys, "compare", "target_z", "--format", "csv", "--out", str(target))
    assert target.read_text(encoding="utf-8") == stdout_text


def test_out_into_a_missing_folder_or_a_folder(capsys, tmp_path):
    msg = user_error(capsys, "run", "target_z", "--out", str(tmp_path / "no" / "f.txt"))
    assert "does not exist" in msg
    msg = user_error(capsys, "run", "target_z", "--out", str(tmp_path), "--force")
    assert "is a folder" in msg
    assert os.listdir(tmp_path) == []


def test_out_not_created_when_the_scenario_is_bad(capsys, tmp_path):
    target = tmp_path / "f.txt"
    user_error(capsys, "run", "no_such_scenario", "--out", str(target))
    assert not target.exists() and os.listdir(tmp_path) == []


# --- compare --------------------------------------------------------------------------------

def test_compare_target_z_both_variants_and_summary(capsys):
    rc, out, _ = cli(capsys, "compare", "target_z")
    assert rc == 0
    lines = out.splitlines()
    assert "fixed" in lines[0] and "recomputed" in lines[0]
    assert lines[1].split() == ["iter", "b", "z", "delta", "dz/db", "step", "b", "b", "z",
                                "delta", "dz/db", "step", "b"]
    row1 = lines[4].split()
    assert row1[:5] == ["1", "3.809524", "150.217687", "0.217687", "63.000000"]
    assert row1[6:10] == ["3.809524", "150.217687", "0.217687", "60.714286"]
    summary = {ln.split()[0]: ln.split() for ln in lines if ln.strip().startswith(("fixed", "recomputed"))}
    assert summary["fixed"][1:3] == [str(TZ_FIXED_UPDATES), "converged"]
    assert summary["recomputed"][1:3] == [str(TZ_RECOMPUTED_UPDATES), "converged"]
    assert summary["fixed"][-1] == summary["recomputed"][-1] == "150.000000"


def test_compare_selected_variants(capsys):
    rc, out, _ = cli(capsys, "compare", "target_z", "--variants", "recomputed")
    assert rc == 0
    assert out.splitlines()[-1].startswith(
        f"target_z [recomputed]: stopped: converged after {TZ_RECOMPUTED_UPDATES}")
    rc, out, _ = cli(capsys, "compare", "target_z", "--variants", "recomputed, fixed",
                     "--format", "jsonl")
    objs = [json.loads(ln) for ln in out.splitlines()]
    summaries = [o["summary"] for o in objs if "summary" in o]
    assert [(s["variant"], s["updates"]) for s in summaries] == \
        [("recomputed", TZ_RECOMPUTED_UPDATES), ("fixed", TZ_FIXED_UPDATES)]
    assert {o["variant"] for o in objs if "summary" not in o} == {"recomputed", "fixed"}


def test_compare_csv_has_a_variant_column(capsys):
    rc, out, _ = cli(capsys, "compare", "target_z", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0])[0] == "variant"
    assert [r["variant"] for r in rows].count("fixed") == TZ_FIXED_UPDATES + 1  # the start too
    assert [r["variant"] for r in rows].count("recomputed") == TZ_RECOMPUTED_UPDATES + 1


def test_compare_without_variants_runs_the_plain_run(capsys):
    rc, out, _ = cli(capsys, "compare", "gd_square")
    assert rc == 0 and "converged after 4 updates" in out


def test_unknown_variant(capsys):
    msg = user_error(capsys, "compare", "target_z", "--variants", "fixed,nope")
    assert msg == "gdlab: error: target_z.toml: no variant named 'nope' (variants: fixed, recomputed)"
    msg = user_error(capsys, "run", "target_z", "--variant", "nope")
    assert "no variant named 'nope'" in msg


@pytest.mark.parametrize("wanted,problem", [
    (",,,", "names no variant (variants: fixed, recomputed)"),
    ("", "names no variant (variants: fixed, recomputed)"),
    (" , ", "names no variant (variants: fixed, recomputed)"),
    ("fixed,,recomputed", "an empty name between commas (variants: fixed, recomputed)"),
    ("fixed,", "an empty name between commas (variants: fixed, recomputed)"),
    ("fixed, fixed", "'fixed' is named twice"),
])
def test_variants_that_name_nothing_or_twice(capsys, wanted, problem):
    msg = user_error(capsys, "compare", "target_z", "--variants", wanted)
    assert msg == f"gdlab: error: --variants {wanted!r}: {problem}"


# --- list and check ---------------------------------------------------------------------------

def test_list_bundled_scenarios(capsys):
    rc, out, _ = cli(capsys, "list")
    assert rc == 0
    rows = {ln.split()[0]: ln for ln in out.splitlines()[2:] if ln.strip()}
    for name in ("target_z", "target_z_w", "split_error", "gd_square"):
        assert name in rows
    assert "Drive z to 150 by changing b" in rows["target_z"]
    assert "fixed, recomputed" in rows["target_z"] and "target" in rows["target_z"]
    assert "gradient" in rows["gd_square"]


def test_list_a_folder_shows_invalid_files(capsys, tmp_path):
    write(tmp_path / "mine.toml", TARGET_Z)
    shutil.copy(FIXTURES / "bad" / "unknown_table.toml", tmp_path / "broken.toml")
    rc, out, _ = cli(capsys, "list", str(tmp_path))
    assert rc == 0
    lines = {ln.split()[0]: ln for ln in out.splitlines()[2:] if ln.strip()}
    assert "target" in lines["mine"]
    assert "invalid" in lines["broken"] and "unknown table [plot]" in lines["broken"]
    msg = user_error(capsys, "list", str(tmp_path / "nope"))
    assert msg == f"gdlab: error: {tmp_path / 'nope'}: no such folder"


def test_check_valid_and_invalid(capsys):
    rc, out, err = cli(capsys, "check", "target_z", "gd_square")
    assert rc == 0 and err == ""
    assert out.splitlines() == ["ok: target_z.toml (target_z: target, 2 variants)",
                                "ok: gd_square.toml (gd_square: gradient, 0 variants)"]
    bad = FIXTURES / "bad" / "hyper_not_applicable.toml"
    rc, out, err = cli(capsys, "check", str(bad))
    assert rc == 2 and out == ""
    assert err.strip() == f"gdlab: error: {bad}: [run] key 'momentum' does not apply to " \
                          "optimizer 'adam' (it takes: betas, eps, weight_decay)"
    rc, out, err = cli(capsys, "check", "target_z", str(bad), "nope")
    assert rc == 2 and out.startswith("ok: target_z.toml")
    assert len(err.splitlines()) == 2
    assert all(ln.startswith("gdlab: error: ") for ln in err.splitlines())


def test_check_with_set(capsys):
    rc, _, err = cli(capsys, "check", "target_z", "--set", "run.bogus=1")
    assert rc == 2 and "unknown key 'bogus'" in err


@pytest.mark.parametrize("name", sorted(p.name for p in (FIXTURES / "bad").glob("*.toml")))
def test_check_every_bad_fixture_fails_cleanly(capsys, name):
    rc, out, err = cli(capsys, "check", str(FIXTURES / "bad" / name))
    assert rc == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("gdlab: error: ")


# --- every bad input: exit 2, one line, no traceback -------------------------------------------

@pytest.mark.parametrize("argv,frag", [
    (["run", "no_such_scenario"], "no_such_scenario: no such scenario file"),
    (["run", str(FIXTURES / "bad" / "syntax_error.toml")], "TOML syntax error"),
    (["run", str(FIXTURES / "bad" / "forbidden.toml")], "call of '__import__' is not allowed"),
    (["run", str(FIXTURES / "bad" / "csv_nonnumeric.toml")], "'three' is not a number"),
    (["run", "target_z", "--set", "run.tolerance"], "expected KEY=VALUE"),
    (["run", "target_z", "--set", "run.bogus=1"], "unknown key 'bogus'"),
    (["run", "target_z", "--set", "run.tolerance=abc"], "[run] key 'tolerance'"),
    (["run", "target_z", "--set", "params.w=x"], "[params] key 'w'"),
    (["run", "target_z", "--every", "0"], "--every: expected an integer >= 1"),
    (["compare", "target_z", "--set", 'graph.z="open(1)"'], "call of 'open' is not allowed"),
    (["compare", "no_such_scenario"], "no such scenario file"),
    (["run", "."], "is a folder"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, frag):
    msg = user_error(capsys, *argv)
    assert frag in msg


@pytest.mark.parametrize("argv", [["run"], ["frobnicate"], ["run", "target_z", "--format", "xml"],
                                  ["run", "target_z", "--every", "x"], ["--nope"]])
def test_usage_errors_exit_2_without_traceback(capsys, argv):
    with pytest.raises(SystemExit) as ei:
        main(argv)
    assert ei.value.code == 2
    _, err = capsys.readouterr()
    assert "Traceback" not in err
    assert re.search(r"^gdlab( \w+)?: error: ", err.splitlines()[-1])


def test_debug_reraises(capsys):
    with pytest.raises(ScenarioError, match="no such scenario file"):
        main(["run", "no_such_scenario", "--debug"])
    with pytest.raises(ScenarioError, match="no such scenario file"):
        main(["compare", "no_such_scenario", "--debug"])
    from engine.errors import GdlabError

    with pytest.raises(GdlabError, match="no such folder"):
        main(["--debug", "list", "/no/such/folder"])


def test_top_level_debug_before_run_reraises(capsys):
    with pytest.raises(ScenarioError):
        main(["--debug", "run", "no_such_scenario"])


def test_nesterov_with_dampening_is_a_user_error(capsys):
    msg = user_error(capsys, "run", "gd_square", "--set", "run.optimizer=nesterov",
                     "--set", "run.dampening=0.5")
    assert "dampening" in msg or "nesterov" in msg


def test_gradual_divergence_stops_cleanly(capsys):
    rc, out, _ = cli(capsys, "run", "gd_square", "--set", "run.lr=1.5",
                     "--set", "run.max_iterations=5000", "--every", "1000")
    assert rc == 0 and "stopped: diverged" in out


# --- the real console script ------------------------------------------------------------------

def run_script(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([GDLAB, *args], capture_output=True, text=True, timeout=60, **kw)


def test_console_script_run_jsonl():
    p = run_script("run", "target_z", "--format", "jsonl", "--variant", "recomputed")
    assert p.returncode == 0, p.stderr
    lines = [json.loads(ln) for ln in p.stdout.splitlines()]
    assert lines[1]["params"]["b"] == B1
    assert lines[-1]["summary"]["updates"] == TZ_RECOMPUTED_UPDATES


def test_console_script_user_error_and_debug():
    p = run_script("run", "no_such_scenario")
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.splitlines() == [
        "gdlab: error: no_such_scenario: no such scenario file (nor a bundled scenario of "
        "that name; `gdlab list` shows them)"]
    p = run_script("run", "no_such_scenario", "--debug")
    assert p.returncode != 0
    assert "Traceback (most recent call last)" in p.stderr
    assert "ScenarioError" in p.stderr


def test_console_script_out_and_force(tmp_path):
    target = tmp_path / "t.csv"
    p = run_script("compare", "target_z", "--format", "csv", "--out", str(target))
    assert p.returncode == 0 and p.stdout == ""
    first = target.read_text(encoding="utf-8")
    p = run_script("compare", "target_z", "--out", str(target))
    assert p.returncode == 2 and "already exists" in p.stderr
    assert target.read_text(encoding="utf-8") == first
    assert os.listdir(tmp_path) == ["t.csv"]


def test_console_script_help():
    p = run_script("--help")
    assert p.returncode == 0
    for cmd in ("run", "compare", "list", "check"):
        assert re.search(rf"^\s+{cmd}\s", p.stdout, re.M), cmd


def test_headless_commands_do_not_import_textual_or_plotext():
    code = (
        "import sys\n"
        "from tui.cli import main\n"
        "assert main(['run', 'target_z']) == 0\n"
        "assert main(['compare', 'target_z', '--format', 'jsonl']) == 0\n"
        "assert main(['run', 'gd_square', '--format', 'csv']) == 0\n"
        "assert main(['check', 'target_z']) == 0\n"
        "assert main(['list']) == 0\n"
        "assert main(['run', 'mnist_mlp', '--set', 'run.epochs=1', '--set', "
        "'data.train_limit=100', '--set', 'data.test_limit=100']) == 0\n"
        "assert main(['compare', 'mnist_mlp', '--variants', 'lr_3,adam', '--set', "
        "'run.epochs=1', '--set', 'data.train_limit=100', '--set', 'data.test_limit=100']) == 0\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'plotext', "
        "'textual_plotext')]\n"
        "assert not bad, bad\n"
        "print('HEADLESS-OK')\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       cwd=Path(__file__).resolve().parent.parent)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip().endswith("HEADLESS-OK")
