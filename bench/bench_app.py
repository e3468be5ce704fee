"""Measure the app: start-up to the first complete run view, and redraws and key latency in a run.

Run: /work/venv/bin/python bench/bench_app.py   (prints figures; nothing is asserted)
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from textual import events

LONG = """
[scenario]
name = "long_square"
[params]
x = 1.2
[graph]
J = "x**2"
[run]
rule = "gradient"
output = "J"
lr = 0.001
max_iterations = 100000
"""


async def startup(size: tuple[int, int]) -> float:
    """Seconds from creating the app to a mounted run view with its table and explain text."""
    from tui.app import GdlabApp
    from tui.screens.run import RunScreen

    t0 = time.perf_counter()
    app = GdlabApp(scenario="target_z")
    async with app.run_test(size=size) as pilot:
        while not (isinstance(app.screen, RunScreen) and app.screen.is_mounted
                   and app.screen.query("#explain-text")):
            await asyncio.sleep(0.001)
        await pilot.pause()
        return time.perf_counter() - t0


async def long_run(seconds: float = 3.0) -> dict[str, float]:
    """Redraws per second, iterations per second and key latency while a 100,000-step run goes."""
    from tui.app import GdlabApp

    path = Path(tempfile.mkdtemp()) / "long_square.toml"
    path.write_text(LONG)
    app = GdlabApp(scenario=str(path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        screen.query_one("TabbedContent").active = "tab-plots"
        await pilot.pause()
        frames0, n0 = screen.frames, len(app.session.records)
        t0 = time.perf_counter()
        screen.action_run_to_end()
        latencies = []
        while time.perf_counter() - t0 < seconds and screen.running:
            log = screen.log_scale
            t = time.perf_counter()
            app.post_message(events.Key("l", None))
            while screen.log_scale is log:
                await asyncio.sleep(0.001)
            latencies.append(time.perf_counter() - t)
            await asyncio.sleep(0.25)
        elapsed = time.perf_counter() - t0
        return {
            "redraws_per_s": (screen.frames - frames0 - len(latencies)) / elapsed,
            "iterations_per_s": (len(app.session.records) - n0) / elapsed,
            "key_latency_median_ms": 1000 * statistics.median(latencies),
            "key_latency_max_ms": 1000 * max(latencies),
            "seconds": elapsed,
        }


def main() -> None:
    """Print the figures."""
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import tui.app"], check=True)
    print(f"import tui.app in a fresh interpreter: {time.perf_counter() - t:.3f} s")
    for size in ((80, 24), (120, 40), (200, 60)):
        print(f"start to first complete run view, headless {size[0]}x{size[1]}: "
              f"{asyncio.run(startup(size)):.3f} s")
    r = asyncio.run(long_run())
    print(f"during a 100,000-iteration run ({r['seconds']:.1f} s measured): "
          f"{r['iterations_per_s']:.0f} iterations/s, {r['redraws_per_s']:.1f} chart redraws/s "
          f"(capped at 5), key latency median {r['key_latency_median_ms']:.0f} ms, "
          f"max {r['key_latency_max_ms']:.0f} ms")


if __name__ == "__main__":
    main()
