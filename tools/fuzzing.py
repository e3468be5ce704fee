"""The harness that sends one hostile case through gdlab: the loader and a few runner steps,
or ``gdlab replay``'s own code; and the signature a campaign counts what escaped by.

``run_case`` says how it went: ran, refused with a GdlabError (the project's own error), or
another exception escaped (a bug). The cases come from tools/fuzz_mutations.py. Used by
tests/test_fuzz.py (a few thousand cases in CI) and by tools/fuzz_campaign.py (100,000 and
more, in worker processes with time and memory limits).
"""

from __future__ import annotations

import io
import random
from pathlib import Path

from fuzz_mutations import Case, bundled, scenario_case, script_case

from engine.bundled import BUNDLED_DIR
from engine.errors import GdlabError
from engine.scenario import parse_scenario

__all__ = ["Case", "bundled", "run_case", "scenario_case", "script_case", "signature"]

# --- running a case ---------------------------------------------------------------------------

STEPS = 3  # runner steps per variant (the scenario cases)
SCRIPT_STEPS = 200  # the most steps a script case's step actions take (clamped, after checks)
SCRIPT_ACTIONS = 500  # the most actions of a script case run (all of them are checked first)


def run_case(case: Case) -> tuple[str, BaseException | None]:
    """Send a case through gdlab: ("ok", None) if it ran, ("refused", the GdlabError) if gdlab
    refused it as it should, ("other", the exception) for anything else that escaped, a
    MemoryError or a RecursionError included."""
    try:
        if case.kind == "scenario":
            _run_scenario(case)
        else:
            _run_script(case)
    except GdlabError as exc:
        return "refused", exc
    except Exception as exc:  # noqa: BLE001 - what the campaign is looking for
        return "other", exc
    return "ok", None


def _run_scenario(case: Case) -> None:
    from engine.runner import Run
    from tui import report

    sc = parse_scenario(case.text, source=case.name, path=BUNDLED_DIR / case.name)
    if sc.kind != "graph":
        _train_a_little(sc)
        return
    outcomes = []
    for variant in ([None, *sc.variants])[:3]:
        run = Run(sc, variant)
        records = []
        for _ in range(STEPS):
            if run.stopped:
                break
            records.append(run.step())
        outcomes.append(report.Outcome(variant, run.cfg, list(run.graph.params), records,
                                       run.summary))
    for o in outcomes:  # the views, on whatever numbers came out
        if o.summary is not None:
            report.table(o)
            report.to_jsonl([o])
        report.to_csv([o])


def _train_a_little(sc: object) -> None:
    from engine.mlp_scenario import data_options, model_config, train_settings
    from engine.mlp_train import train

    config = model_config(sc)
    data_options(sc)
    calls = [0]

    def stop() -> bool:
        calls[0] += 1
        return calls[0] > STEPS

    for variant in ([None, *sc.variants])[:2]:
        settings = train_settings(sc, variant)
        calls[0] = 0
        for _ in train(config, settings, _tiny_mnist(), should_stop=stop):
            pass


_TINY: list[object] = []


def _tiny_mnist() -> object:
    """32 training and 16 test images of the bundled subset (loaded once): a few steps of
    training need no more, and the data a scenario names is not what is being tested."""
    if not _TINY:
        from types import SimpleNamespace

        from engine.data.mnist import _load_subset

        a = _load_subset()
        _TINY.append(SimpleNamespace(train_images=a["train_images"][:32],
                                     train_labels=a["train_labels"][:32],
                                     test_images=a["test_images"][:16],
                                     test_labels=a["test_labels"][:16]))
    return _TINY[0]


def _run_script(case: Case) -> None:
    from tui.replay import parse_script, write_replay

    actions = parse_script(case.text, "fuzz.json")[:SCRIPT_ACTIONS]
    budget = SCRIPT_STEPS
    for a in actions:  # checked within the limits; run only a few steps of them
        if a["do"] == "step":
            a["count"] = min(int(a.get("count", 1)), budget)
            budget -= a["count"]
    rng = random.Random(case.number)
    write_replay(actions, rng.choice(["table", "csv", "jsonl"]), io.StringIO(),
                 keep=rng.choice([0, 5, 10_000]))


# --- describing what escaped ------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


def signature(exc: BaseException) -> str:
    """The exception's type and the innermost frame of gdlab's own code it came through:
    ``OverflowError at engine/graph.py:92 (as_value)``, the key a campaign counts by."""
    tb = exc.__traceback__
    where = ""
    while tb is not None:
        f = tb.tb_frame.f_code.co_filename
        try:
            rel = Path(f).resolve().relative_to(ROOT)
        except ValueError:
            rel = None
        if rel is not None and rel.parts[0] in ("engine", "tui"):
            where = f"{rel}:{tb.tb_lineno} ({tb.tb_frame.f_code.co_name})"
        tb = tb.tb_next
    return f"{type(exc).__name__} at {where or 'outside gdlab'}"
