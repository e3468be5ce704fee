"""Fuzzing in CI: mutated bundled scenarios and session scripts sent through the loader, a few
runner steps and gdlab replay's code; nothing but the project's own error (GdlabError) may
escape. The cases are numbered (tools/fuzz_mutations.py rebuilds each from its number), so a failure
names a case that reproduces it. The long campaign, 100,000 cases and more with time and memory
limits per case, is tools/fuzz_campaign.py (docs/robustness.md has its command and counts)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

import fuzzing  # noqa: E402  (from tools/)

SCENARIO_CASES = 1_000  # cases 0..999 of the campaign's scenarios
SCRIPT_CASES = 600  # and 0..599 of its scripts (quick: an action repeated at most 50 times)
CHUNKS = 4

def _run(cases: list[fuzzing.Case]) -> list[str]:
    escaped = []
    for case in cases:
        outcome, exc = fuzzing.run_case(case)
        if outcome == "other":
            escaped.append(f"{case.kind} case {case.number}: {fuzzing.signature(exc)}: {exc!r:.200}")
    return escaped


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_mutated_scenarios_raise_only_gdlab_errors(chunk):
    numbers = range(chunk, SCENARIO_CASES, CHUNKS)
    assert _run([fuzzing.scenario_case(n) for n in numbers]) == []


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_mutated_session_scripts_raise_only_gdlab_errors(chunk):
    numbers = range(chunk, SCRIPT_CASES, CHUNKS)
    assert _run([fuzzing.script_case(n, quick=True) for n in numbers]) == []


def test_the_cases_are_rebuilt_from_their_numbers():
    assert fuzzing.scenario_case(41).text == fuzzing.scenario_case(41).text
    assert fuzzing.script_case(41).text == fuzzing.script_case(41).text
    assert fuzzing.scenario_case(41).text != fuzzing.scenario_case(42).text


def test_the_mutations_reach_every_outcome():
    # the cases exercise gdlab, not only its TOML parser: some run, and the refusals come from
    # many of its checks (told apart by the start of their messages after the file name)
    results = [fuzzing.run_case(fuzzing.scenario_case(n)) for n in range(150)]
    assert sum(o == "ok" for o, _ in results) >= 15
    refusals = {str(exc).split(": ")[1][:12] for o, exc in results if o == "refused"}
    assert len(refusals) >= 8, refusals


def test_network_scenarios_are_fuzzed_through_the_registry():
    # cases made from the bundled network scenarios run a few training steps (kinds.get(...)
    # .check and .stream, then the network views); their refusals name [model], [data], [run]
    cases = [c for c in map(fuzzing.scenario_case, range(300)) if "[model]" in c.text]
    results = [fuzzing.run_case(c) for c in cases]
    assert len(cases) >= 30 and sum(o == "ok" for o, _ in results) >= 5
    assert {"[model]", "[run]"} <= {t for o, exc in results if o == "refused"
                                    for t in ("[model]", "[data]", "[run]") if t in str(exc)}


def test_network_cases_train_on_the_harness_s_tiny_mnist(monkeypatch, tmp_path):
    # however MNIST would be found ($GDLAB_MNIST_DIR, the cache, the bundled subset), a case's
    # network trains on 32 training and 16 test images: a large legal network stays quick
    from engine.scenario import load_scenario

    monkeypatch.setenv("GDLAB_MNIST_DIR", str(tmp_path))  # an empty folder: never read
    sc = load_scenario("mnist_mlp")
    with fuzzing._tiny_mnist():
        data = sc.dataset(None)
    assert (len(data.y_train), len(data.y_test)) == (fuzzing.TINY_TRAIN, fuzzing.TINY_TEST)


def test_the_signature_names_the_innermost_gdlab_frame():
    from engine.graph import as_value

    try:
        as_value(10**400)
    except OverflowError as exc:
        sig = fuzzing.signature(exc)
    assert sig.startswith("OverflowError at engine/graph_values.py:") and sig.endswith(" (as_value)")


def test_the_campaign_counts_every_case(tmp_path):
    # the long campaign's machinery on a few cases: worker processes, the summary's counts
    import json
    import subprocess

    out = tmp_path / "summary.json"
    tools = Path(__file__).resolve().parent.parent / "tools"
    done = subprocess.run([sys.executable, str(tools / "fuzz_campaign.py"), "--cases", "40",
                           "--start", "1000", "--workers", "1", "--batch", "25",
                           "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    summary = json.loads(out.read_text())
    assert summary["cases"] == 40 and not summary["interrupted"]
    assert sum(summary["outcomes"].values()) == 40 and summary["bugs"] == {}
    assert summary["by_kind"]["script"]["ok"] + summary["by_kind"]["script"]["refused"] == 8
    assert done.stdout.startswith("40 cases in ")
