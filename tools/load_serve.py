"""A class on one machine: ``gdlab serve`` with N headless Chromium pages at once.

For each N, starts ``gdlab serve`` on 127.0.0.1 and opens N pages in one headless Chromium
(Playwright, Debian's /usr/bin/chromium through ``executable_path``). Each page starts the app,
opens ``target_z`` and repeats: reset, step, step, run, pause, run to the stop -- timing each key
from the moment the browser sends it to the moment the terminal output that shows its effect
arrives (the status line's "1 record", "running", "paused" ...), measured inside the page with
``performance.now()``. Meanwhile it reads the server's child processes: memory per session
(PSS: shared pages split between the processes that share them; RSS), and CPU of the server's
process tree, of the browser and of the whole machine.

    python tools/load_serve.py                      # N = 1, 5, 10, 20; 30 s of keys each
    python tools/load_serve.py --sessions 10 --duration 60

The browsers run on the same machine as the server: their CPU is reported apart, and it is part
of what limits N here (a real class's browsers run on the students' machines).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
TIMEOUT_MS = 15_000

# Wraps the page's WebSocket: remembers when a key is sent and when the output that shows its
# effect (a regular expression over the terminal text, escape sequences removed) arrives.
INIT_SCRIPT = r"""
(() => {
  const Native = window.WebSocket;
  const strip = s => s.replace(/\x1b\][^\x07\x1b]*(\x07|\x1b\\)/g, "")
                      .replace(/\x1b\[[0-9;?<>=]*[ -\/]*[@-~]/g, "").replace(/\x1b[()=>][0-9A-Za-z]?/g, "");
  // armed from the start: the app's first screen (the picker) shows that it has started
  const gd = window.__gd = {text: "", armed: /open a scenario/, sent: performance.now(),
                            latency: null, frames: 0};
  gd.arm = (pattern) => { gd.armed = new RegExp(pattern); gd.text = ""; gd.sent = 0;
                          gd.latency = null; };
  function Wrapped(url, protocols) {
    const ws = protocols === undefined ? new Native(url) : new Native(url, protocols);
    const decoder = new TextDecoder();
    ws.addEventListener("message", (ev) => {
      if (typeof ev.data === "string") return;
      gd.frames += 1;
      if (!gd.armed || !gd.sent) return;
      gd.text = (gd.text + strip(decoder.decode(new Uint8Array(ev.data), {stream: true})))
                .slice(-20000);
      if (gd.armed.test(gd.text)) { gd.latency = performance.now() - gd.sent; gd.armed = null; }
    });
    const send = ws.send.bind(ws);
    ws.send = (data) => {
      if (typeof data === "string" && data.startsWith('["stdin"') && gd.armed && !gd.sent)
        gd.sent = performance.now();
      return send(data);
    };
    return ws;
  }
  Wrapped.prototype = Native.prototype;
  for (const k of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) Wrapped[k] = Native[k];
  window.WebSocket = Wrapped;
})();
"""

# (key, what shows its effect) of one cycle; the status line reads "N records", "running ...",
# "paused, speed ..." or "stopped: ..."
CYCLE = [("r", r"no steps yet"), ("s", r"\b1 records?\b"), ("s", r"\b2 records\b"),
         ("Space", r"running|stopped"), ("Space", r"paused|stopped"), ("Enter", r"stopped")]


@dataclass
class PageResult:
    """One page's start-up time and its keys' latencies (ms)."""

    start_ms: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=dict)
    timeouts: int = 0
    error: str = ""


def target_z_index() -> int:
    """Where target_z is in the picker's list (the picker's own order)."""
    sys.path.insert(0, str(ROOT))
    from tui.screens.picker import scan

    return [e.path.stem for e in scan([])].index("target_z")


async def press(page, key: str, pattern: str, result: PageResult, name: str) -> None:
    await page.evaluate("p => window.__gd.arm(p)", pattern)
    await page.keyboard.press(key)
    try:
        await page.wait_for_function("() => window.__gd.latency !== null", timeout=TIMEOUT_MS,
                                     polling=20)
    except Exception:
        result.timeouts += 1
        return
    result.latencies.setdefault(name, []).append(await page.evaluate("window.__gd.latency"))


async def one_page(context, url: str, index: int, start_gate: asyncio.Event,
                   stop_at: list[float], think: float, result: PageResult) -> None:
    page = await context.new_page()
    try:
        t0 = time.perf_counter()
        await page.goto(url)
        await page.wait_for_function("() => window.__gd.latency !== null", timeout=60_000,
                                     polling=50)
        result.start_ms = (time.perf_counter() - t0) * 1000
        await page.focus(".xterm-helper-textarea")
        for _ in range(index):
            await page.keyboard.press("ArrowDown")
        await press(page, "Enter", r"no steps yet", result, "open")
        await start_gate.wait()
        rng = random.Random(index)
        while time.perf_counter() < stop_at[0]:
            for key, pattern in CYCLE:
                await press(page, key, pattern, result, key)
                await asyncio.sleep(think * rng.uniform(0.5, 1.5))
    except Exception as exc:  # reported, not raised: one page's failure is a figure too
        result.error = f"{type(exc).__name__}: {exc}"[:200]
    finally:
        await page.close()


# --- processes: memory and CPU -------------------------------------------------------------

def children(pid: int) -> list[int]:
    """Every descendant of ``pid``."""
    parents: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [pid]
    while todo:
        for c in parents.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def memory_kb(pid: int) -> tuple[int, int, int]:
    """(PSS, RSS, USS) of a process in kB; USS (its private pages) is what one more session
    costs, PSS its fair share of the pages it shares with the others."""
    fields = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            k, v = line.split(":", 1)
            fields[k] = int(v.split()[0])
    except OSError:
        return 0, 0, 0
    return (fields.get("Pss", 0), fields.get("Rss", 0),
            fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0))


def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            parts = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(parts[11]) + int(parts[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return total


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine."""
    values = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def sessions_of(server: int) -> list[int]:
    return [p for p in children(server) if "tui.cli" in cmdline(p) and "serve" not in cmdline(p)
            and "python" in cmdline(p).split(" ", 1)[0]]


# --- one N -----------------------------------------------------------------------------------

async def run_n(n: int, port: int, duration: float, think: float, chromium: str) -> dict:
    from playwright.async_api import async_playwright

    server = subprocess.Popen([sys.executable, "-m", "tui.cli", "serve", "--host", "127.0.0.1",
                               "--port", str(port), "--max-sessions", str(n)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert server.stdout is not None
    server.stdout.readline()  # the banner: the server is up
    index = target_z_index()
    url = f"http://127.0.0.1:{port}/"
    results = [PageResult() for _ in range(n)]
    gate = asyncio.Event()
    stop_at = [float("inf")]
    hz = os.sysconf("SC_CLK_TCK")
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=chromium,
                                              args=["--no-sandbox", "--disable-gpu"])
            context = await browser.new_context(viewport={"width": 1280, "height": 720})
            await context.add_init_script(INIT_SCRIPT)
            tasks = []
            for i in range(n):
                tasks.append(asyncio.create_task(one_page(context, url, index, gate, stop_at,
                                                          think, results[i])))
                await asyncio.sleep(0.2)  # students arrive over a few seconds, not at once
            while sum(bool(r.latencies.get("open")) or r.error or r.timeouts
                      for r in results) < n:
                await asyncio.sleep(0.2)
            me = os.getpid()
            tree = [server.pid, *children(server.pid)]
            browsers = [c for c in children(me) if c not in tree]
            c0, b0, m0, t0 = cpu_ticks(tree), cpu_ticks(browsers), machine_ticks(), time.time()
            stop_at[0] = time.perf_counter() + duration
            gate.set()
            await asyncio.sleep(duration / 2)
            sessions = sessions_of(server.pid)
            mem = [memory_kb(s) for s in sessions]
            server_mem = memory_kb(server.pid)
            await asyncio.sleep(duration / 2)  # the same processes at both ends, all alive
            c1, b1, m1, t1 = cpu_ticks(tree), cpu_ticks(browsers), machine_ticks(), time.time()
            await asyncio.gather(*tasks)
            await browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    keys = [x for r in results for k, v in r.latencies.items() if k != "open" for x in v]
    per_key = {k: [x for r in results for x in r.latencies.get(k, [])] for k, _ in CYCLE}
    wall = t1 - t0
    return {
        "n": n, "sessions_seen": len(mem),
        "pss_mb": statistics.mean(m[0] for m in mem) / 1024 if mem else 0.0,
        "rss_mb": statistics.mean(m[1] for m in mem) / 1024 if mem else 0.0,
        "uss_mb": statistics.mean(m[2] for m in mem) / 1024 if mem else 0.0,
        "server_pss_mb": server_mem[0] / 1024,
        "server_cpu": (c1 - c0) / hz / wall * 100, "browser_cpu": (b1 - b0) / hz / wall * 100,
        "machine_cpu": (m1[0] - m0[0]) / max(1, m1[1] - m0[1]) * 100 * os.cpu_count(),
        "start_med": statistics.median(r.start_ms for r in results),
        "start_max": max(r.start_ms for r in results),
        "median": statistics.median(keys) if keys else float("nan"),
        "p90": statistics.quantiles(keys, n=10)[-1] if len(keys) > 1 else float("nan"),
        "max": max(keys) if keys else float("nan"), "keys": len(keys),
        "timeouts": sum(r.timeouts for r in results),
        "errors": [r.error for r in results if r.error],
        "per_key": {k: statistics.median(v) for k, v in per_key.items() if v},
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, nargs="+", default=[1, 5, 10, 20])
    ap.add_argument("--duration", type=float, default=30.0, help="seconds of keys for each N")
    ap.add_argument("--think", type=float, default=0.3,
                    help="mean pause between a key's effect and the next key (s)")
    ap.add_argument("--port", type=int, default=8790)
    ap.add_argument("--chromium", default=CHROMIUM)
    args = ap.parse_args()
    print(f"# gdlab serve under load: {os.cpu_count()} cores, {args.duration:g} s of keys per N, "
          f"think {args.think:g} s; CPU in % of one core")
    print("| N | USS/session MB | PSS/session MB | RSS/session MB | server tree CPU % | browsers CPU % | "
          "machine CPU % | start median/max ms | key median ms | key p90 ms | key max ms | "
          "keys | over 15 s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n in args.sessions:
        r = asyncio.run(run_n(n, args.port, args.duration, args.think, args.chromium))
        print(f"| {n} | {r['uss_mb']:.1f} | {r['pss_mb']:.1f} | {r['rss_mb']:.1f} | {r['server_cpu']:.0f} | "
              f"{r['browser_cpu']:.0f} | {r['machine_cpu']:.0f} | {r['start_med']:.0f}/"
              f"{r['start_max']:.0f} | {r['median']:.0f} | {r['p90']:.0f} | {r['max']:.0f} | "
              f"{r['keys']} | {r['timeouts']} |", flush=True)
        per_key = ", ".join(f"{k} {v:.0f}" for k, v in r["per_key"].items())
        print(f"<!-- N={n}: sessions seen {r['sessions_seen']}, server {r['server_pss_mb']:.1f} "
              f"MB PSS; median by key: {per_key}; errors: {r['errors'] or 'none'} -->",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
