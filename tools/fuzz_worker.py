"""The worker of tools/fuzz_campaign.py: runs the cases it is sent, each under an alarm, in a
process whose address space is limited, and answers each with one JSON line on stdout.

It also shrinks a failing case to a minimal example (``{"minimize": ...}`` requests). Ctrl-C
is left to the parent, which stops the campaign and kills its workers.
"""

from __future__ import annotations

import argparse
import json
import resource
import signal
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


class CaseTimeout(BaseException):
    """The case ran past its time (raised by the alarm; not an Exception, so nothing in gdlab
    can catch it)."""


def _alarm(signum: int, frame: object) -> None:
    raise CaseTimeout()


def run_one(kind: str, n: int, timeout: float) -> dict:
    """Run case ``n`` under the alarm; its outcome as a JSON-ready dict."""
    import fuzzing

    case = fuzzing.scenario_case(n) if kind == "scenario" else fuzzing.script_case(n)
    t0 = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        outcome, exc = fuzzing.run_case(case)
    except CaseTimeout:
        outcome, exc = "hang", None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    result = {"n": n, "kind": kind, "seconds": round(time.perf_counter() - t0, 4),
              "size": len(case.text), "outcome": outcome}
    if outcome == "hang":
        result.update(sig=f"hang after {timeout:g} s", msg="")
    elif outcome == "other":
        memory = isinstance(exc, MemoryError)
        result.update(outcome="memory" if memory else "other", sig=fuzzing.signature(exc),
                      msg=" ".join(str(exc).split())[:300])
    return result


def still_fails(kind: str, text: str, sig: str, timeout: float) -> bool:
    """Does this text fail with the same signature?"""
    import fuzzing

    case = fuzzing.Case(0, kind, "minimal.toml" if kind == "scenario" else "script", text)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        outcome, exc = fuzzing.run_case(case)
    except CaseTimeout:
        return sig.startswith("hang")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return outcome == "other" and fuzzing.signature(exc) == sig


def minimize(kind: str, n: int, sig: str, timeout: float) -> str:
    """The case's text with every line (for a script: every action) removed that the failure
    does not need, greedily until nothing more can go."""
    import fuzzing

    case = fuzzing.scenario_case(n) if kind == "scenario" else fuzzing.script_case(n)
    text = case.text
    if kind == "scenario":
        case.name = "minimal.toml"
        parts, join = text.split("\n"), "\n".join
    else:
        try:
            data = json.loads(text)
            actions = data["actions"]
            if not isinstance(actions, list):
                return text
        except (ValueError, KeyError, TypeError, RecursionError):
            return text
        parts = actions

        def join(acts: list) -> str:
            return json.dumps({**data, "actions": acts}, allow_nan=True)
    if not still_fails(kind, join(parts), sig, timeout):
        return text
    changed = True
    while changed:
        changed = False
        for i in range(len(parts) - 1, -1, -1):
            trial = parts[:i] + parts[i + 1:]
            if still_fails(kind, join(trial), sig, timeout):
                parts, changed = trial, True
    return join(parts)


def worker(args: argparse.Namespace) -> None:
    """Read requests on stdin (a JSON list of [kind, n], or {"minimize": ...}), answer each
    case with one JSON line on stdout."""
    sys.path.insert(0, str(HERE))
    limit = args.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    signal.signal(signal.SIGALRM, _alarm)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the campaign
    import fuzzing  # noqa: F401 - imported once, before the first case's clock starts

    for line in sys.stdin:
        request = json.loads(line)
        if isinstance(request, dict):
            m = request["minimize"]
            try:
                text = minimize(m["kind"], m["n"], m["sig"], args.timeout)
            except (MemoryError, CaseTimeout):
                text = ""
            print(json.dumps({"minimized": text}), flush=True)
            continue
        for kind, n in request:
            try:
                result = run_one(kind, n, args.timeout)
            except (MemoryError, CaseTimeout) as exc:  # in the harness, as the case ended
                bad = "memory" if isinstance(exc, MemoryError) else "hang"
                result = {"n": n, "kind": kind, "outcome": bad, "sig": f"{bad} in the harness",
                          "msg": "", "seconds": 0.0, "size": 0}
            print(json.dumps(result), flush=True)
