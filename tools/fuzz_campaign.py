"""A long fuzzing campaign: hostile scenarios and session scripts through gdlab, each case in a
worker process with a time and a memory limit, every outcome counted, a summary written.

    python tools/fuzz_campaign.py --cases 100000 --out fuzz-summary.json

Cases are numbered (tools/fuzz_mutations.py rebuilds each from its number): one in five is a
script, the others mutated bundled scenarios. Workers (tools/fuzz_worker.py) (``--workers``,
default one per core) take batches of cases, a fresh worker process for each batch; a case
gets ``--timeout`` seconds (an alarm), and the worker's address space is limited to
``--memory-mb`` (RLIMIT_AS). A worker that stops answering is killed after the timeout and a
grace period, and its case counts as a hang; a worker that dies counts its case as a crash.
Each such case is then run again alone in a fresh worker, and one that runs normally there is
reported as unconfirmed (a busy machine, or what earlier cases left in the worker), apart from
the counts. Outcomes: ``ok`` (ran), ``refused`` (a GdlabError: the project's own error),
``other`` (any other exception: a bug), ``hang``, ``memory`` (MemoryError) and ``crash``. For
each kind of bug (exception type and the innermost frame of gdlab's code) the smallest case is
kept, and shrunk line by line to a minimal example that still fails the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUTCOMES = ("ok", "refused", "other", "hang", "memory", "crash")


def kind_of(i: int) -> str:
    """Case i is a session script one time in five, a scenario otherwise."""
    return "script" if i % 5 == 4 else "scenario"


# --- the parent: hands out batches, watches the workers, counts ------------------------------------

class Worker:
    """One worker process, and a thread that passes its answers on line by line."""

    def __init__(self, args: argparse.Namespace) -> None:
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
        log = open(args.log, "a") if args.log else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker",
             "--timeout", str(args.timeout), "--memory-mb", str(args.memory_mb)],
            cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=log, text=True, bufsize=1)
        if log is not subprocess.DEVNULL:
            log.close()  # the worker has its own copy
        self.wait = args.timeout + args.grace
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)  # the worker has gone

    def send(self, request: object) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()

    def answer(self) -> tuple[dict | None, str]:
        """(the next answer, "") or (None, why): the worker went silent past the timeout and
        its grace (it is killed), or it died."""
        try:
            line = self.lines.get(timeout=self.wait)
        except queue.Empty:
            line, why = None, "silent"
        else:
            why = "" if line else f"died (exit status {self.proc.wait()})"
        if line:
            return json.loads(line), ""
        self.kill()
        return None, why

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


class Stop:
    """Ctrl-C during a campaign: no new worker is started, the running ones are killed, and
    the cases answered so far are summarized."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.live: set[Worker] = set()
        self.lock = threading.Lock()

    def start(self, args: argparse.Namespace) -> Worker:
        with self.lock:
            if self.event.is_set():
                raise KeyboardInterrupt
            w = Worker(args)
            self.live.add(w)
            return w

    def now(self) -> None:
        with self.lock:
            self.event.set()
            for w in self.live:
                w.kill()


def run_batches(args: argparse.Namespace, todo: queue.Queue, results: list[dict],
                lock: threading.Lock, progress: callable, stop: Stop) -> None:
    """One thread per worker: take batches, each in a fresh worker (what a case leaves in
    the process stays in its batch), collect answers, replace a worker that fails or that
    ran out of memory."""
    w: Worker | None = None
    try:
        while True:
            try:
                batch = todo.get_nowait()
            except queue.Empty:
                return
            if w is not None:
                w.kill()
            w = stop.start(args)
            pending = list(batch)
            w.send(pending)
            while pending:
                got, why = w.answer()
                if stop.event.is_set():
                    return
                if got is None:  # the case it was on hung or killed it
                    kind, n = pending.pop(0)
                    hang = why == "silent"
                    got = {"n": n, "kind": kind, "outcome": "hang" if hang else "crash",
                           "sig": f"hang: no answer within {w.wait:g} s" if hang else
                           f"worker {why}", "msg": "", "seconds": w.wait, "size": 0}
                    w = stop.start(args)
                    if pending:
                        w.send(pending)
                else:
                    pending.pop(0)
                    if got["outcome"] == "memory" and pending:  # start the rest afresh
                        w.kill()
                        w = stop.start(args)
                        w.send(pending)
                with lock:
                    results.append(got)
                progress()
    except KeyboardInterrupt:  # raised by stop.start once the campaign is stopping
        return
    finally:
        if w is not None:
            w.kill()


def campaign(args: argparse.Namespace) -> dict:
    cases = [(kind_of(i), i) for i in range(args.start, args.start + args.cases)]
    todo: queue.Queue = queue.Queue()
    for k in range(0, len(cases), args.batch):
        todo.put(cases[k:k + args.batch])
    results: list[dict] = []
    lock = threading.Lock()
    t0 = time.monotonic()
    last = [t0]

    def progress() -> None:
        now = time.monotonic()
        if now - last[0] > 10:
            last[0] = now
            with lock:
                done = len(results)
                counts = Counter(r["outcome"] for r in results)
            rate = done / (now - t0)
            print(f"{done}/{len(cases)} cases, {rate:.0f}/s, "
                  + ", ".join(f"{o} {counts[o]}" for o in OUTCOMES), file=sys.stderr, flush=True)

    stop = Stop()
    threads = [threading.Thread(target=run_batches,
                                args=(args, todo, results, lock, progress, stop))
               for _ in range(args.workers)]
    for t in threads:
        t.start()
    try:
        for t in threads:
            t.join()
    except KeyboardInterrupt:
        print("interrupted: summarizing the cases answered so far", file=sys.stderr)
        stop.now()
        for t in threads:
            t.join()
        return summarize(args, list(results), time.monotonic() - t0, interrupted=True)
    confirm(args, results)
    seconds = time.monotonic() - t0
    return summarize(args, results, seconds)


def confirm(args: argparse.Namespace, results: list[dict]) -> None:
    """Run each case that hung, crashed a worker, or ran out of memory in the harness (not in
    gdlab) again, alone, in a fresh worker: a case that then runs normally is marked
    unconfirmed (a busy machine, or what earlier cases left in the worker), counted apart."""
    def suspect(r: dict) -> bool:
        return r["outcome"] in ("hang", "crash") or r.get("sig") == "memory in the harness"

    for r in results:
        if not suspect(r):
            continue
        w = Worker(args)
        try:
            w.send([[r["kind"], r["n"]]])
            again, why = w.answer()
        finally:
            w.kill()
        if again is not None and not suspect(again):
            r["unconfirmed"] = {"outcome": again["outcome"], "seconds": again["seconds"]}


def summarize(args: argparse.Namespace, results: list[dict], seconds: float,
              interrupted: bool = False) -> dict:
    """Counts per outcome and kind; per bug signature its count, smallest case and message
    (shrunk to a minimal example unless ``--no-minimize`` or ``interrupted``)."""
    def outcome(r: dict) -> str:  # a hang or crash that did not happen again is counted apart
        return "unconfirmed" if "unconfirmed" in r else r["outcome"]

    by_outcome = Counter(outcome(r) for r in results)
    by_kind = {k: Counter(outcome(r) for r in results if r["kind"] == k)
               for k in ("scenario", "script")}
    unconfirmed = [{"kind": r["kind"], "case": r["n"], "first": r["sig"],
                    "again": r["unconfirmed"]} for r in results if "unconfirmed" in r]
    bugs: dict[str, dict] = {}
    for r in results:
        if r["outcome"] in ("ok", "refused") or "unconfirmed" in r:
            continue
        b = bugs.setdefault(r["sig"], {"outcome": r["outcome"], "count": 0, "kind": r["kind"],
                                      "case": r["n"], "size": r["size"], "message": r["msg"]})
        b["count"] += 1
        if r["size"] < b["size"]:
            b.update(kind=r["kind"], case=r["n"], size=r["size"], message=r["msg"])
    if args.minimize and bugs and not interrupted:
        w = Worker(args)
        try:
            for sig, b in bugs.items():
                if b["outcome"] in ("crash",):
                    continue
                w.send({"minimize": {"kind": b["kind"], "n": b["case"], "sig": sig}})
                got, _ = w.answer()
                if got is None:
                    w = Worker(args)
                    continue
                b["minimal"] = got["minimized"][:4000]
        finally:
            w.kill()
    slowest = sorted(results, key=lambda r: -r.get("seconds", 0))[:5]
    return {
        "command": " ".join([Path(sys.executable).name, "tools/fuzz_campaign.py", *sys.argv[1:]]),
        "python": platform.python_version(),
        "cases": len(results),
        "interrupted": interrupted,
        "start": args.start,
        "workers": args.workers,
        "timeout_seconds": args.timeout,
        "memory_mb": args.memory_mb,
        "seconds": round(seconds, 1),
        "outcomes": {o: by_outcome[o] for o in OUTCOMES},
        "by_kind": {k: {o: c[o] for o in OUTCOMES} for k, c in by_kind.items()},
        "unconfirmed": unconfirmed,
        "bugs": dict(sorted(bugs.items(), key=lambda kv: -kv[1]["count"])),
        "slowest": [{k: r[k] for k in ("kind", "n", "seconds", "outcome")} for r in slowest],
    }


def report_text(summary: dict) -> str:
    """The summary as a person reads it."""
    o = summary["outcomes"]
    lines = [f"{summary['cases']} cases in {summary['seconds']} s ({summary['workers']} workers, "
             f"{summary['timeout_seconds']:g} s and {summary['memory_mb']} MB per case)"
             + (" - interrupted" if summary.get("interrupted") else ""),
             "  " + ", ".join(f"{k}: {o[k]}" for k in OUTCOMES)]
    for kind, c in summary["by_kind"].items():
        lines.append(f"  {kind}s: " + ", ".join(f"{k}: {c[k]}" for k in OUTCOMES))
    for u in summary["unconfirmed"]:
        lines.append(f"  unconfirmed: {u['kind']} case {u['case']}: {u['first']}; alone in a "
                     f"fresh worker: {u['again']['outcome']} in {u['again']['seconds']} s")
    for sig, b in summary["bugs"].items():
        lines.append(f"{b['count']:6d}  {sig}  [{b['kind']} case {b['case']}]  {b['message']}")
        if b.get("minimal"):
            lines += ["        " + ln for ln in b["minimal"][:600].splitlines()[:20]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=100_000)
    p.add_argument("--start", type=int, default=0, help="number of the first case")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    p.add_argument("--batch", type=int, default=200,
                   help="cases per worker process (each batch gets a fresh one)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per case")
    p.add_argument("--grace", type=float, default=30.0,
                   help="seconds past the timeout before a silent worker is killed")
    p.add_argument("--memory-mb", type=int, default=2048, help="address space per worker")
    p.add_argument("--out", type=Path, help="write the summary (JSON) here")
    p.add_argument("--log", type=Path, help="append the workers' stderr here")
    p.add_argument("--no-minimize", dest="minimize", action="store_false")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        from fuzz_worker import worker

        worker(args)
        return 0
    summary = campaign(args)
    if args.out:
        args.out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(report_text(summary))
    bad = sum(summary["outcomes"][k] for k in ("other", "hang", "memory", "crash"))
    return 130 if summary["interrupted"] else 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
