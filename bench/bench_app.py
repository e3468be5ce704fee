"""Measure the app: start-up to the first complete run view, and redraws and key latency in a run;
the network screen (``spiral``'s playground variant, [2, 4, 2, 1]): start to its first frame,
and while it trains continuously, boundary redraws per second, the time to answer a key (``]``,
select the next neuron: answered when the selection has changed) and the training speed in
epochs per second against the same training headless (``NetworkSession.step_batches``), timed
in the same run before and after the app.

With GDLAB_MNIST_DIR set, the network screen's first frame is measured on mnist_mlp too.

Run: python bench/bench_app.py [--network-only]   (prints figures; nothing is asserted)
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
    from textual import events

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


def long_spiral() -> str:
    """spiral with 100,000 epochs instead of 500 (a file of its own): a run that does not end
    while it is measured (its 500 epochs take about a second in a process of its own)."""
    from engine.scenario import BUNDLED_DIR

    text = (BUNDLED_DIR / "spiral.toml").read_text(encoding="utf-8")
    path = Path(tempfile.mkdtemp()) / "spiral.toml"
    path.write_text(text.replace("\nepochs = 500\n", "\nepochs = 100000\n"), encoding="utf-8")
    return str(path)


def headless_epochs_per_s(seconds: float = 3.0) -> float:
    """spiral trained by a NetworkSession without the app: epochs (25 batches) per second."""
    from tui.network_session import NetworkSession

    s = NetworkSession()
    s.open(long_spiral(), "playground")
    s.prepare()
    t0 = time.perf_counter()
    taken = 0
    while time.perf_counter() - t0 < seconds and not s.finished:
        s.step_batches(25)
        taken += 25
    return taken / 25 / (time.perf_counter() - t0)


async def network_first_frame(size: tuple[int, int], scenario: str = "spiral"
                              ) -> tuple[float, float]:
    """Seconds from creating the app to the network screen's first drawn frame, and to the
    frame after one mini-batch asked for at once (s: the trainer process has to be ready)."""
    from tui.app import GdlabApp

    t0 = time.perf_counter()
    app = GdlabApp(scenario=scenario)
    async with app.run_test(size=size):
        while getattr(app.screen, "frame", None) is None:
            await asyncio.sleep(0.001)
        first = time.perf_counter() - t0
        screen = app.screen
        screen.action_step_batch()
        while screen.frame is None or screen.frame.batch < 1:
            await asyncio.sleep(0.001)
        return first, time.perf_counter() - t0


async def network_run(size: tuple[int, int], seconds: float = 4.0) -> dict[str, float]:
    """Boundary redraws/s, key latency and epochs/s while spiral trains continuously."""
    from textual import events

    from tui.app import GdlabApp

    app = GdlabApp(scenario=long_spiral())
    async with app.run_test(size=size) as pilot:
        while getattr(app.screen, "frame", None) is None:
            await asyncio.sleep(0.001)
        screen = app.screen
        await app.workers.wait_for_complete()
        await pilot.pause()
        done = screen.trained  # where the trainer (its own process) left the run
        start_batches = (done.epoch - 1) * 25 + done.batch if done.epoch else 0
        draws0 = screen.draws
        t0 = time.perf_counter()
        screen.action_toggle_run()
        latencies = []
        while time.perf_counter() - t0 < seconds:
            sel = screen.selection
            t = time.perf_counter()
            app.post_message(events.Key("right_square_bracket", "]"))
            while screen.selection is sel:
                await asyncio.sleep(0.001)
            latencies.append(time.perf_counter() - t)
            await asyncio.sleep(0.2)
        elapsed = time.perf_counter() - t0
        draws = screen.draws - draws0
        screen.action_toggle_run()
        elapsed = time.perf_counter() - t0  # the pause: training stops at its next batch
        await app.workers.wait_for_complete()
        done = screen.trained
        batches = (done.epoch - 1) * 25 + done.batch - start_batches
        assert done.epoch < 100000, "the run ended while it was measured"
        return {"redraws_per_s": draws / elapsed, "epochs_per_s": batches / 25 / elapsed,
                "key_latency_median_ms": 1000 * statistics.median(latencies),
                "key_latency_max_ms": 1000 * max(latencies), "seconds": elapsed}


def network_main() -> None:
    """Print the network screen's figures."""
    scenarios = ["spiral"] + (["mnist_mlp"] if os.environ.get("GDLAB_MNIST_DIR") else [])
    for sc in scenarios:
        for size in ((80, 24), (200, 60)):
            first, step = asyncio.run(network_first_frame(size, sc))
            print(f"network screen ({sc}), start to first frame, headless {size[0]}x{size[1]}: "
                  f"{first:.3f} s; to the frame of a first batch asked for then: {step:.3f} s")
    for size in ((80, 24), (200, 60)):
        before = headless_epochs_per_s()
        r = asyncio.run(network_run(size))
        after = headless_epochs_per_s()
        headless = (before + after) / 2
        print(f"spiral training continuously at {size[0]}x{size[1]} ({r['seconds']:.1f} s): "
              f"{r['redraws_per_s']:.1f} boundary redraws/s, key latency median "
              f"{r['key_latency_median_ms']:.0f} ms, max {r['key_latency_max_ms']:.0f} ms, "
              f"{r['epochs_per_s']:.1f} epochs/s = {r['epochs_per_s'] / headless:.0%} of "
              f"headless ({before:.1f} before, {after:.1f} after)")


async def run_view_keys(size: tuple[int, int] = (120, 40), repeats: int = 10
                        ) -> dict[str, float]:
    """Median milliseconds from a key to the run view having handled it (target_z, paused):
    ``s`` a step, ``r`` a reset, an edit (a new learning rate applied from Settings)."""
    from tui.app import GdlabApp
    from tui.screens.run import RunScreen
    from tui.widgets.settings import SettingsPanel

    app = GdlabApp(scenario="gd_square")
    times: dict[str, list[float]] = {"s (step)": [], "r (reset)": [], "edit (lr)": []}
    async with app.run_test(size=size) as pilot:
        while not isinstance(app.screen, RunScreen) or not app.screen.query(SettingsPanel) or \
                not app.screen.query_one(SettingsPanel).loads:
            await pilot.pause()
        screen = app.screen
        panel = screen.query_one(SettingsPanel)
        for i in range(repeats):
            for name, act in (("s (step)", lambda: pilot.press("s")),
                              ("r (reset)", lambda: pilot.press("r"))):
                t = time.perf_counter()
                await act()
                await pilot.pause()
                times[name].append((time.perf_counter() - t) * 1000)
            loads = panel.loads
            t = time.perf_counter()
            panel.post_message(SettingsPanel.Changed("lr", f"0.{3 + i % 2}"))
            while panel.loads == loads:
                await pilot.pause()
            await pilot.pause()
            times["edit (lr)"].append((time.perf_counter() - t) * 1000)
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    """Print the figures."""
    if "--network-only" in sys.argv:
        network_main()
        return
    if "--keys-only" in sys.argv:
        r = asyncio.run(run_view_keys())
        print("run view keys while paused, 120x40, median ms: " +
              ", ".join(f"{k} {v:.0f}" for k, v in r.items()))
        return
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
    network_main()


if __name__ == "__main__":
    main()
