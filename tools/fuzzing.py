"""The harness that sends one hostile case through gdlab: the loader and a few runner steps,
or ``gdlab replay``'s own code; and the signature a campaign counts what escaped by.

``run_case`` says how it went: ran, refused with a GdlabError (the project's own error), or
another exception escaped (a bug). The cases come from tools/fuzz_mutations.py. Used by
tests/test_fuzz.py (a few thousand cases in CI) and by tools/fuzz_campaign.py (100,000 and
more, in worker processes with time and memory limits).
"""

from __future__ import annotations

import contextlib
import io
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from fuzz_mutations import Case, bundled, scenario_case, script_case

from engine import kinds
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
    """Load the case, check it as `gdlab check` does, run a few records of up to three of its
    variants through its kind (the registry's ``stream``), and render them as the views do."""
    sc = parse_scenario(case.text, source=case.name, path=BUNDLED_DIR / case.name)
    kind = kinds.get(sc.kind)
    with _tiny_mnist():
        kind.check(sc)
        runs = []
        for variant in ([None, *sc.variants])[:3]:
            stream = kind.stream(sc, variant, should_stop=_after(STEPS))
            runs.append((variant, stream, list(stream)))
    if sc.kind == "graph":
        _graph_views(runs)
    else:
        _network_views(sc, runs)


def _after(n: int) -> Callable[[], bool]:
    """A should_stop that turns true on its (n + 1)-th call: a few records of any kind."""
    calls = [0]

    def stop() -> bool:
        calls[0] += 1
        return calls[0] > n

    return stop


def _graph_views(runs: list) -> None:
    from tui import report

    for variant, run, records in runs:  # the views, on whatever numbers came out
        o = report.Outcome(variant, run.cfg, list(run.graph.params), records, run.summary)
        if o.summary is not None:
            report.table(o)
            report.to_jsonl([o])
        report.to_csv([o])
    outcomes = [report.Outcome(v, r.cfg, list(r.graph.params), recs, r.summary)
                for v, r, recs in runs]
    if len(outcomes) > 1 and all(o.summary is not None for o in outcomes):
        report.compare_table(outcomes)


def _network_views(sc: object, runs: list) -> None:
    from engine.records import EpochRecord
    from tui import network_report as nr

    outcomes = []
    for variant, stream, records in runs:
        epochs = [r for r in records if isinstance(r, EpochRecord)]
        for r in records:
            nr.json_line(r, variant, tagged=True)
        if epochs:
            cols = nr.epoch_columns(epochs[0])
            nr.table_header(cols)
            for r in epochs:
                nr.table_row(cols, r)
            nr.speed_note(epochs[0])
        if stream.summary is not None:
            nr.summary_json(stream.summary)
            nr.summary_line(sc.name, stream.summary)
        outcomes.append(nr.NetworkOutcome(variant, epochs, stream.summary))
    nr.csv_text([(o.variant, o.epochs) for o in outcomes])
    nr.compare_table(outcomes)


TINY_TRAIN, TINY_TEST = 32, 16
_SUBSET: list[dict] = []


@contextmanager
def _tiny_mnist() -> Iterator[None]:
    """While a case runs, MNIST without a folder named is 32 training and 16 test images of the
    bundled subset (loaded once): a few steps need no more, and the full set (which
    $GDLAB_MNIST_DIR may name) would make a case slow. A [data] path the case names is read
    as gdlab reads it, hostile paths included."""
    from engine.data import mnist, mnist_source

    real = mnist.load_mnist

    def load(path: object = None, *, train_limit: int | None = None,
             test_limit: int | None = None) -> object:
        if path is not None:
            return real(path, train_limit=train_limit, test_limit=test_limit)
        mnist._check_limit("train_limit", train_limit)
        mnist._check_limit("test_limit", test_limit)
        if not _SUBSET:
            _SUBSET.append(mnist._load_subset())
        a = _SUBSET[0]
        n, m = min(TINY_TRAIN, train_limit or TINY_TRAIN), min(TINY_TEST, test_limit or TINY_TEST)
        return mnist.MnistData(a["train_images"][:n], a["train_labels"][:n],
                               a["test_images"][:m], a["test_labels"][:m],
                               "the fuzzing harness's tiny MNIST", True)

    # the network kind's source reads MNIST through its own name for load_mnist
    mnist.load_mnist = mnist_source.load_mnist = load
    try:
        yield
    finally:
        mnist.load_mnist = mnist_source.load_mnist = real


def _run_script(case: Case) -> None:
    from tui.network_session import is_network_script, replay_network_main
    from tui.replay import parse_script, write_replay

    actions = parse_script(case.text, "fuzz.json")[:SCRIPT_ACTIONS]
    budget = SCRIPT_STEPS
    for a in actions:  # checked within the limits; run only a few steps of them (a network
        # script's actions are checked as they are applied: a bad count is left to gdlab)
        count = a.get("count", 1) if isinstance(a, dict) and a.get("do") == "step" else None
        if isinstance(count, int) and not isinstance(count, bool):
            a["count"] = min(count, budget)
            budget -= max(a["count"], 0)
    rng = random.Random(case.number)
    fmt = rng.choice(["table", "csv", "jsonl"])
    if is_network_script(actions):  # as gdlab replay does, on the tiny MNIST
        with _tiny_mnist(), contextlib.redirect_stdout(io.StringIO()):
            replay_network_main(actions, fmt)
        return
    write_replay(actions, fmt, io.StringIO(), keep=rng.choice([0, 5, 10_000]))


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
