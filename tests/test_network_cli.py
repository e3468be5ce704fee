"""`gdlab run`, `compare` and `check` on network scenarios, on the bundled MNIST subset: the epoch
table from epoch 0, JSONL and CSV keys, compare side by side, variants that change [model] and
[data], checks before any output, and the numbers of main's trainer kept."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from golden.make_golden import HERE

from engine.kinds.network import NetworkScenario
from engine.scenario import load_scenario
from tui.cli import main

FAST = ["--set", "run.epochs=1", "--set", "data.train_limit=2000", "--set", "run.report_every=50"]
TINY = ["--set", "run.epochs=2", "--set", "data.train_limit=300", "--set", "data.test_limit=200"]


@pytest.fixture(autouse=True)
def bundled_subset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Make load_mnist fall back to the bundled subset: no $GDLAB_MNIST_DIR, an empty cache."""
    monkeypatch.delenv("GDLAB_MNIST_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_numbers_are_those_of_the_trainer_before_the_kinds(capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    """tests/golden/mnist_short.json was written by main's `gdlab run` before the network kind
    existed (2 epochs on 2,000 subset images): the same batch losses and epoch figures, to float32
    rounding across BLAS builds."""
    golden = json.loads((HERE / "mnist_short.json").read_text())
    for name, want in golden.items():
        rc, out, _ = run(capsys, *want["args"])
        assert rc == 0
        lines = [json.loads(x) for x in out.splitlines()]
        batches = [[d["epoch"], d["batch"], d["loss"]] for d in lines if "batch" in d]
        assert [b[:2] for b in batches] == [b[:2] for b in want["batches"]]
        assert [b[2] for b in batches] == pytest.approx([b[2] for b in want["batches"]],
                                                        rel=1e-4), name
        epochs = [d for d in lines if "train_loss" in d and d["epoch"] > 0]
        assert len(epochs) == len(want["epochs"])
        for got, exp in zip(epochs, want["epochs"], strict=True):
            assert got["epoch"] == exp["epoch"] and got["lr"] == exp["lr"]
            assert got["train_loss"] == pytest.approx(exp["train_loss"], rel=1e-4)
            for key in ("train_accuracy", "test_accuracy"):
                assert got[key] == pytest.approx(exp[key], abs=0.004), (name, key)
        summary = lines[-1]["summary"]
        assert summary["final_test_accuracy"] == pytest.approx(want["final_test_accuracy"],
                                                               abs=0.004)


def test_table_prints_one_row_per_epoch_from_epoch_0(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(capsys, "run", "mnist_mlp", "--set", "run.epochs=2", "--set",
                       "data.train_limit=1000")
    assert rc == 0 and "bundled subset" in err
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:1] == ["epoch"])
    assert lines[header].split() == ["epoch", "train", "loss", "test", "loss", "train", "acc",
                                     "test", "acc", "seconds", "lr", "speed", "1", "speed", "2"]
    rows = lines[header + 2 : header + 5]
    assert [r.split()[0] for r in rows] == ["0", "1", "2"]
    assert rows[0].split()[5] == "0.00"  # epoch 0: no training time
    assert "stopped: epochs after 2 epochs" in lines[header + 5]
    assert lines[-3].startswith("speed l = ||dC/db_l||")
    first, last = (ln.split() for ln in lines[-2:])
    speeds = [float(lines[header + 2].split()[-2]), float(lines[header + 2].split()[-1])]
    assert first[:6] == ["epoch", "0:", "speed", "2", "/", "speed"] and last[:2] == ["epoch", "2:"]
    assert float(first[8].rstrip(":")) == pytest.approx(speeds[1] / speeds[0], rel=2e-3)


def test_every_keeps_multiples_and_the_last_epoch(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "run", "mnist_mlp", "--every", "2", "--set", "run.epochs=3",
                     "--set", "data.train_limit=300")
    assert rc == 0
    rows = [ln.split()[0] for ln in out.splitlines() if ln[:5].strip().isdigit()]
    assert rows == ["0", "2", "3"]


def test_jsonl_keys_epoch_0_and_summary(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "run", "mnist_mlp", *FAST, "--format", "jsonl")
    assert rc == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[0]["epoch"] == 0 and lines[0]["seconds"] == 0.0
    batches = [d for d in lines if "batch" in d]
    epochs = [d for d in lines if "train_loss" in d]
    assert len(batches) == 4  # 2000 / 10 = 200 batches, one record every 50
    assert all(list(d) == ["epoch", "batch", "loss", "lr"] and d["lr"] == 3.0 for d in batches)
    assert [d["epoch"] for d in epochs] == [0, 1]
    assert list(epochs[1]) == ["epoch", "train_loss", "test_loss", "train_accuracy",
                               "test_accuracy", "lr", "seconds", "layer_grad_norm"]
    assert len(epochs[1]["layer_grad_norm"]) == 2
    summary = lines[-1]["summary"]
    assert summary["stop_reason"] == "epochs" and summary["epochs"] == 1
    assert summary["variant"] == "lr_3" and summary["scenario"] == "mnist_mlp"
    assert summary["final_test_accuracy"] == epochs[1]["test_accuracy"] > 0.25  # chance: 0.1
    assert summary["final_test_loss"] == epochs[1]["test_loss"]
    assert "bundled subset" in summary["data"]


def test_csv_columns_and_out_written_atomically(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "epochs.csv"
    assert main(["run", "mnist_mlp", *FAST, "--format", "csv", "--out", str(out)]) == 0
    assert capsys.readouterr().out == ""
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert list(rows[0]) == ["epoch", "train_loss", "test_loss", "train_accuracy",
                             "test_accuracy", "lr", "seconds", "layer_grad_norm_1",
                             "layer_grad_norm_2"]
    assert [r["epoch"] for r in rows] == ["0", "1"]
    assert float(rows[1]["layer_grad_norm_2"]) > 0
    assert main(["run", "mnist_mlp", *FAST, "--out", str(out)]) == 2  # exists, no --force
    assert "already exists" in capsys.readouterr().err


def test_plot_draws_charts_after_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "run", "mnist_mlp", *TINY, "--plot")
    assert rc == 0
    assert out.index("stopped:") < out.index("loss per epoch")
    assert "accuracy per epoch" in out and "\x1b[" not in out


def test_divergence_is_reported_in_the_summary(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["run", "mnist_mlp", *TINY, "--set", "model.activation=relu", "--set",
            "model.init=he", "--set", "run.lr=1e8", "--set", "model.cost=cross_entropy"]
    rc, out, err = run(capsys, *args, "--format", "jsonl")
    assert rc == 0
    lines = [json.loads(line) for line in out.splitlines()]  # strict JSON: NaN as null
    summary = lines[-1]["summary"]
    assert summary["stop_reason"] == "diverged" and summary["diverged_epoch"] == 1
    assert summary["message"].startswith("the loss became NaN or infinite at epoch 1, batch ")
    assert f"diverged at epoch 1, batch {summary['diverged_batch']}" in err
    rc, out, _ = run(capsys, *args)
    assert rc == 0 and "stopped: diverged after 0 epochs" in out


def test_a_stop_request_keeps_what_was_done(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """What the first Ctrl-C asks for, here at once: epoch 0 is printed, exit status 130."""
    import contextlib

    import tui.kinds.network as views

    monkeypatch.setattr(views, "first_interrupt_stops",
                        lambda: contextlib.nullcontext(lambda: True))
    rc, out, _ = run(capsys, "run", "mnist_mlp", *TINY)
    assert rc == 130
    assert "stopped: interrupted after 0 epochs;" in out
    assert [ln.split()[0] for ln in out.splitlines() if ln[:5].strip().isdigit()] == ["0"]


# --- compare ---------------------------------------------------------------------------------

def test_compare_network_variants_side_by_side(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "compare", "mnist_mlp", "--variants", "lr_3,lr_0_1", *TINY)
    assert rc == 0
    lines = out.splitlines()
    groups = next(ln for ln in lines if "lr_3" in ln and "lr_0_1" in ln and "---" in ln)
    assert groups.index("lr_3") < groups.index("lr_0_1")
    header = next(i for i, ln in enumerate(lines) if ln.startswith("epoch"))
    assert lines[header].split().count("acc") == 2
    assert [ln.split()[0] for ln in lines[header + 2 : header + 5]] == ["0", "1", "2"]
    first = lines[header + 2].split()
    assert first[1:4] == first[4:7]  # epoch 0: the same untrained network in both
    summary = next(i for i, ln in enumerate(lines) if ln.startswith("variant"))
    assert lines[summary].split() == ["variant", "epochs", "stop", "train", "loss", "test",
                                      "loss", "test", "acc", "seconds"]
    assert [ln.split()[:3] for ln in lines[summary + 2 : summary + 4]] == \
        [["lr_3", "2", "epochs"], ["lr_0_1", "2", "epochs"]]


def test_compare_jsonl_tags_every_record_with_its_variant(capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    rc, out, _ = run(capsys, "compare", "mnist_mlp", "--variants", "lr_3,adam", *TINY,
                     "--set", "run.report_every=10", "--format", "jsonl")
    assert rc == 0
    lines = [json.loads(line) for line in out.splitlines()]
    records = [d for d in lines if "summary" not in d]
    assert {d["variant"] for d in records} == {"lr_3", "adam"}
    assert all(list(d)[0] == "variant" for d in records)
    summaries = [d["summary"] for d in lines if "summary" in d]
    assert [s["variant"] for s in summaries] == ["lr_3", "adam"]
    rc, out, _ = run(capsys, "compare", "mnist_mlp", "--variants", "lr_3,adam", *TINY,
                     "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["variant"], r["epoch"]) for r in rows] == [
        ("lr_3", "0"), ("lr_3", "1"), ("lr_3", "2"), ("adam", "0"), ("adam", "1"), ("adam", "2")]


VARIANTS = """
[scenario]
name = "sizes"
[model]
layers = [784, 20, 10]
cost = "cross_entropy"
init = "scaled"
[data]
source = "mnist"
train_limit = 300
test_limit = 100
[run]
lr = 0.5
epochs = 1
[variants.small]
[variants.deep]
lr = 1.0
[variants.deep.model]
layers = [784, 20, 20, 10]
activation = "tanh"
[variants.held.data]
validation = 100
"""


def test_variants_change_model_data_and_run(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "sizes.toml"
    path.write_text(VARIANTS)
    sc = load_scenario(path)
    assert isinstance(sc, NetworkScenario)
    assert sc.model_config("deep").layers == [784, 20, 20, 10]
    assert sc.model_config("deep").cost == "cross_entropy"  # the rest of [model] is kept
    assert sc.model_config("small").layers == [784, 20, 10]
    assert sc.config("deep").lr == 1.0 and sc.config("small").lr == 0.5
    assert sc.table("data", "held")["validation"] == 100
    assert "validation" not in sc.table("data", "small")
    assert sc.config("small").seed == sc.model_config("small").seed == 1  # the model's seed
    rc, out, _ = run(capsys, "compare", str(path), "--format", "jsonl")
    assert rc == 0
    epochs = [json.loads(x) for x in out.splitlines() if '"train_loss"' in x]
    speeds = {d["variant"]: len(d["layer_grad_norm"]) for d in epochs}
    assert speeds == {"small": 2, "deep": 3, "held": 2}
    held = [d for d in epochs if d["variant"] == "held"]
    assert all("validation_loss" in d and "validation_accuracy" in d for d in held)
    assert not any("validation_loss" in d for d in epochs if d["variant"] != "held")
    # --set reaches [model] everywhere, including a variant's own [model] key
    sc = load_scenario(path, ["model.activation=relu"])
    assert sc.model_config("deep").activations == ["relu", "relu"]
    assert sc.model_config("small").activations == ["relu"]


@pytest.mark.parametrize("override,frag", [
    ("variants.deep.model.layers=[784, 0, 10]", "[variants.deep.model] key 'layers': expected "
                                                "layer sizes >= 1, got 0 in [784, 0, 10]"),
    ("variants.held.data.validation=-1", "[variants.held.data] key 'validation': expected an "
                                         "integer >= 0, got -1"),
    ("variants.deep.betas=[0.9, 0.99]", "[variants.deep] key 'betas' does not apply to "
                                        "optimizer 'sgd'"),
    ("variants.deep.rule=\"target\"", "[variants.deep] unknown key 'rule'"),
    ("run.patience=0", "[run] key 'patience': expected an integer >= 1, got 0"),
    ("run.seed=-3", "[run] key 'seed': expected an integer in [0, 4,294,967,295], got -3"),
    ("run.shuffle_seed=4", "key 'shuffle_seed': give seed or shuffle_seed, not both"),
])
def test_variant_and_run_mistakes_name_the_table(tmp_path: Path, override: str, frag: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "sizes.toml"
    path.write_text(VARIANTS.replace("lr = 0.5\n", "lr = 0.5\nseed = 2\n")
                    if "shuffle_seed" in override else VARIANTS)
    rc, out, err = run(capsys, "check", str(path), "--set", override)
    assert rc == 2 and out == ""
    assert err.startswith(f"gdlab: error: {path}: ") and frag in err, err
    assert len(err.splitlines()) == 1


def test_a_graph_variant_cannot_change_other_tables(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(capsys, "check", "target_z", "--set", "variants.fixed.params.w=2")
    assert rc == 2 and "[variants.fixed] table 'params': a variant of a graph scenario " \
                       "changes [run] keys only" in err


# --- checks before any output ----------------------------------------------------------------

@pytest.mark.parametrize("command", ["run", "compare", "check"])
def test_layers_that_do_not_fit_the_data_are_refused_before_any_output(
        command: str, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(capsys, command, "mnist_mlp", "--set", "model.layers=[100,10]")
    assert rc == 2 and out == ""
    assert err.count("\n") == 1  # nothing before the error, not even which data was loaded
    assert err.strip() == ("gdlab: error: mnist_mlp.toml: [model] key 'layers': n_in = 100 but "
                           "[data] gives 784 input features (pixel 0, pixel 1, pixel 2, pixel 3, "
                           "pixel 4, pixel 5, pixel 6, pixel 7, ...)")


def test_a_validation_set_larger_than_the_data_is_refused(capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    rc, out, err = run(capsys, "check", "mnist_mlp", "--set", "data.train_limit=100",
                       "--set", "data.validation=100")
    assert rc == 2 and out == ""
    assert "[data] key 'validation': expected fewer than the 100 training examples, got 100" \
        in err


def test_check_loads_the_data_and_says_ok(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(capsys, "check", "mnist_mlp_ce")
    assert rc == 0 and err == ""
    assert out == "ok: mnist_mlp_ce.toml (mnist_mlp_ce: network, 6 variants)\n"
