"""The network screen as a newcomer meets it (issue 12): nothing cut off at 80x24, every tab by a
key, the status line's numbers whole, the curves' series told apart by marker as well as colour,
and export choosing its format by the typed name's suffix."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from test_network_screen import MNIST_FAST, NetApp, settle, until
from textual.widgets import Input, TabbedContent

from engine.models.surface import NeuronMaps
from tui.formatting import fmt_sig
from tui.widgets.network_panels import neuron_lines


def drawn_lines(app: NetApp) -> list[str]:
    """The text of the screen as drawn (Textual's compositor: no public API)."""
    strips = app.screen._compositor.render_strips()  # noqa: SLF001
    return ["".join(seg.text for seg in strip) for strip in strips]


def test_neuron_maps_continue_on_the_next_row_when_they_do_not_fit_the_width() -> None:
    maps = NeuronMaps([np.linspace(-1, 1, 8 * 6 * 6).reshape(8, 6, 6)], [(-1.0, 1.0)])

    def label_rows(lines: list) -> list[list[str]]:
        return [line.plain.split() for line in lines
                if line.plain.split() and all(re.fullmatch(r"1\.\d", w) for w in line.plain.split())]

    for width in (20, 36, 80):
        lines = neuron_lines(maps, [1, 10, 1], 1, 7, width)
        # the maps' rows are cropped, never wrapped: each must fit (the sentences wrap)
        assert all(line.cell_len <= width for line in lines if line.no_wrap), width
        assert sum(label_rows(lines), []) == [f"1.{j}" for j in range(1, 9)], width
    # 80 columns: eight maps of the widest that fit (80 // 8 - 2 = 8 cells) in one row;
    # 20 columns: maps of 3 cells, 20 // (3 + 2) = 4 a row, so two rows
    assert len(label_rows(neuron_lines(maps, [1, 10, 1], 1, 0, 80))) == 1
    assert len(label_rows(neuron_lines(maps, [1, 10, 1], 1, 0, 20))) == 2


async def test_keys_1_to_4_open_the_tabs_and_a_regression_says_it_has_no_confusion() -> None:
    app = NetApp("xor")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        tabs = app.screen.query_one("#net-tabs", TabbedContent)
        for key, pane in (("2", "tab-layers"), ("3", "tab-curves"), ("4", "tab-confusion"),
                          ("1", "tab-neurons")):
            await pilot.press(key)
            await pilot.pause()
            assert tabs.active == pane, key
    app = NetApp("sin_fit")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        tabs = app.screen.query_one("#net-tabs", TabbedContent)
        await pilot.press("4")
        await pilot.pause()
        assert tabs.active == "tab-neurons"
        assert any("no confusion matrix" in str(n.message) for n in app._notifications)


async def test_the_status_line_wraps_and_keeps_its_numbers_at_80_and_120_columns() -> None:
    for size in ((80, 24), (120, 40)):
        app = NetApp("spiral", variant="playground")
        async with app.run_test(size=size) as pilot:
            screen = await settle(pilot)
            await pilot.press("S")
            screen = await settle(pilot)
            f = screen.frame
            last = f.epochs[-1]
            wanted = [f"batch loss {f.batch_loss:.4f}", f"{last.test_accuracy * 100:.1f}%",
                      f"test loss {last.test_loss:.4g}"]
            status = screen.query_one("#net-status")
            await until(pilot, lambda status=status: status.size.height >= 1)
            text = " ".join(line.strip() for line in
                            drawn_lines(app)[status.region.y:status.region.bottom])
            for w in wanted:  # whole, on the screen (wrapped, not cut at the right edge)
                assert w.split()[-1] in text, (size, w, text)


async def test_the_curves_tell_train_and_test_apart_by_marker() -> None:
    app = NetApp("xor")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("S", "S", "S")
        screen = await settle(pilot)
        await pilot.press("3")
        await pilot.pause()
        screen._plotted = 0.0
        screen._draw(screen.frame)
        await pilot.pause()
        text = "\n".join(drawn_lines(app)).replace(" ", "")
        # each series' own marker beside its label, the same in both legends (plots.MARKERS:
        # batch •, train +, test x)
        assert "••batch" in text, text
        assert text.count("++train") == 2 and text.count("xxtest") == 2, text


async def test_network_export_follows_the_typed_suffix_and_does_not_overwrite_unasked(
        tmp_path: Path) -> None:
    from tui.screens.export import ExportScreen
    from tui.widgets.toggles import StateCheckbox, StateRadioButton

    app = NetApp("xor")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("S")
        await settle(pilot)
        await pilot.press("e")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ExportScreen)
        radios = list(dialog.query(StateRadioButton))
        assert [str(r.label) for r in radios][0] == "epochs as CSV" and dialog.kind == "csv"
        assert not dialog.query_one("#export-force", StateCheckbox).value
        field = dialog.query_one("#export-path", Input)
        field.value = str(tmp_path / "mine.jsonl")
        await pilot.pause()
        assert dialog.kind == "jsonl" and radios[1].value and field.value.endswith("mine.jsonl")
        field.value = str(tmp_path / "steps.json")
        await pilot.pause()
        assert dialog.kind == "script" and radios[3].value
        (tmp_path / "steps.json").write_text("keep")
        dialog.export()
        await pilot.pause()
        assert (tmp_path / "steps.json").read_text() == "keep"  # not ticked: not replaced
        assert "already exists" in str(dialog.query_one("#export-msg").render())
        dialog.query_one("#export-force", StateCheckbox).value = True
        dialog.export()
        await pilot.pause()
        assert '"gdlab_session"' in (tmp_path / "steps.json").read_text()


async def test_the_layers_table_fits_its_panel_at_80x24() -> None:
    app = NetApp("mnist_mlp", MNIST_FAST)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        screen = await settle(pilot)
        await pilot.press("2")
        await pilot.pause()
        panel = screen.query_one("#net-layers")
        await until(pilot, lambda: "30×784" in "\n".join(drawn_lines(app)))
        right = [line[panel.region.x:] for line in drawn_lines(app)]
        header = next(line for line in right if "avg‖δ‖" in line)
        assert "‖∂C/∂b‖" in header  # the last header whole
        rows = [line for line in right if "30×784" in line or "10×30" in line]
        assert len(rows) == 2 and not any("…" in line for line in rows), rows
        stats = screen.frame.stats
        assert fmt_sig(stats[0]["grad_b_norm"], 3) in rows[0]
