"""Served mode (``gdlab serve``): exports are delivered, files are confined, errors don't leak.

The browser's side of a delivery is Textual's driver: here the headless driver's
``deliver_binary`` is replaced by one that keeps what it is given (what the web driver would
stream to the browser), and the test checks that nothing was written in the server's folders.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from textual.drivers.headless_driver import HeadlessDriver
from textual.widgets import Checkbox, Input, RadioSet

from engine import confine
from engine.confine import Confinement, ConfinementError
from engine.errors import GdlabError
from engine.scenario import load_scenario
from tui import report
from tui.app import GdlabApp
from tui.screens.export import ExportScreen
from tui.screens.new_scenario import NewScenarioScreen
from tui.screens.picker import PickerScreen
from tui.served import ServeConfig

SIZE = (120, 40)
SECRET = "root:x:0:0:SECRET-CELL\ndaemon:x:1:1:OTHER-SECRET\n"  # a file outside the served folder


@pytest.fixture(autouse=True)
def _no_policy_left(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GDLAB_SERVE", raising=False)
    yield
    confine.install(None)


@pytest.fixture
def class_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A served folder, a secret file beside it, and the server's cwd and home in tmp_path."""
    served = tmp_path / "served"
    served.mkdir()
    (tmp_path / "secret.csv").write_text(SECRET)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    return served


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


class Deliveries:
    """Stands in for the browser: keeps each delivered file's name, MIME type and bytes."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.files: list[tuple[str, str | None, bytes]] = []
        monkeypatch.setattr(HeadlessDriver, "deliver_binary", self.deliver, raising=False)

    def deliver(self, binary, *, delivery_key, save_path, open_method="download", encoding=None,
                mime_type=None, name=None) -> None:
        data = binary.read()
        binary.close()
        self.files.append((save_path.name, mime_type,
                           data.encode(encoding or "utf-8") if isinstance(data, str) else data))


# --- the policy ------------------------------------------------------------------------------

def csv_scenario(folder: Path, file: str, name: str = "leak") -> Path:
    path = folder / f"{name}.toml"
    path.write_text(f'[scenario]\nname = "{name}"\n\n[params]\nw = 1.0\n\n[data.csv]\n'
                    f'file = "{file}"\ndelimiter = ":"\ncolumns = ["root"]\n\n'
                    '[graph]\nloss = "mean((w - root)**2)"\n\n[run]\nrule = "gradient"\n'
                    'output = "loss"\nlr = 0.1\n')
    return path


def network_csv_scenario(folder: Path, file: str) -> Path:
    path = folder / "net_leak.toml"
    path.write_text('[scenario]\nname = "net_leak"\nkind = "network"\n\n[model]\n'
                    'layers = [1, 2]\n\n[data]\nsource = "csv"\n'
                    f'file = "{file}"\nlabel = "root"\n\n[run]\nepochs = 1\n')
    return path


def test_without_the_policy_the_leak_of_the_issue_is_real(class_dir: Path) -> None:
    # the control: outside served mode the message quotes a cell of the file (the issue's leak)
    with pytest.raises(GdlabError, match="OTHER-SECRET|daemon"):
        load_scenario(csv_scenario(class_dir, "../secret.csv"))


@pytest.mark.parametrize("make", [csv_scenario, network_csv_scenario])
@pytest.mark.parametrize("how", ["relative", "absolute", "symlink"])
def test_data_outside_the_scenarios_folder_is_refused_without_its_content(
        class_dir: Path, make, how: str) -> None:
    secret = class_dir.parent / "secret.csv"
    if how == "symlink":
        (class_dir / "innocent.csv").symlink_to(secret)
    file = {"relative": "../secret.csv", "absolute": str(secret), "symlink": "innocent.csv"}[how]
    path = make(class_dir, file)
    confine.install(Confinement.of([class_dir]))
    with pytest.raises(ConfinementError) as err:
        sc = load_scenario(path)
        from engine import kinds

        kinds.get(sc.kind).check(sc)  # the network kind reads its data when checked
    message = str(err.value)
    assert "must lie inside the scenario's own folder" in message
    assert "symbolic links" in message
    for content in ("SECRET-CELL", "OTHER-SECRET", "daemon", "root:x"):
        assert content not in message


def test_data_inside_the_folder_is_read(class_dir: Path) -> None:
    (class_dir / "points.csv").write_text("root\n1\n3\n")
    confine.install(Confinement.of([class_dir]))
    sc = load_scenario(csv_scenario(class_dir, "points.csv"))
    assert sc.name == "leak"


def test_scenario_files_outside_the_served_folders_are_refused(class_dir: Path) -> None:
    other = class_dir.parent / "other"
    other.mkdir()
    outside = csv_scenario(other, "x.csv", name="outside")
    (class_dir / "alias.toml").symlink_to(outside)
    confine.install(Confinement.of([class_dir]))
    for ref in (outside, class_dir / "alias.toml", other / "missing.toml"):
        with pytest.raises(ConfinementError, match="bundled scenarios and the folders given"):
            load_scenario(ref)
    assert load_scenario("target_z").name == "target_z"  # the bundled ones stay open


def test_save_names_are_plain_file_names_inside_the_save_dir(tmp_path: Path) -> None:
    policy = Confinement.of([], tmp_path)
    assert policy.save_path("mine.toml") == tmp_path.resolve() / "mine.toml"
    for bad in ("../mine.toml", "/etc/mine.toml", "sub/mine.toml", "..", ""):
        with pytest.raises(ConfinementError, match="plain file name"):
            policy.save_path(bad)
    with pytest.raises(ConfinementError, match="--save-dir"):
        Confinement.of([]).save_path("mine.toml")


# --- the app ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, suffix", [(0, "_trace.csv"), (1, "_trace.jsonl"), (2, ".svg"),
                                          (3, "_session.json")])
async def test_an_export_is_delivered_and_nothing_is_written(
        class_dir: Path, monkeypatch: pytest.MonkeyPatch, kind: int, suffix: str) -> None:
    browser = Deliveries(monkeypatch)
    before = files_under(class_dir.parent)
    app = GdlabApp(scenario="target_z", served=ServeConfig((class_dir,)))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s", "s")
        await pilot.press("e")
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        assert not screen.query_one("#export-force", Checkbox).display  # nothing to overwrite
        list(screen.query_one(RadioSet).query("RadioButton"))[kind].value = True
        await pilot.pause()
        field = screen.query_one("#export-path", Input)
        assert field.value == f"target_z{suffix}"  # a file name, not a path on the server
        field.focus()
        await pilot.press("enter")
        for _ in range(50):  # the screenshot is taken after the dialog has gone
            if browser.files:
                break
            await pilot.pause()
        expected = {0: lambda: report.to_csv([app.session.outcome()]),
                    1: lambda: report.to_jsonl([app.session.outcome()]),
                    3: app.session.script}
        assert len(browser.files) == 1
        name, mime, data = browser.files[0]
        assert name == f"target_z{suffix}"
        if kind in expected:
            assert data.decode() == expected[kind]()
        else:
            assert mime == "image/svg+xml" and data.startswith(b"<svg")
    assert files_under(class_dir.parent) == before


async def test_add_a_folder_outside_the_served_ones_is_refused(class_dir: Path) -> None:
    other = class_dir.parent / "other"
    other.mkdir()
    csv_scenario(other, "x.csv", name="elsewhere")
    inner = class_dir / "week2"
    inner.mkdir()
    csv_scenario(inner, "x.csv", name="inner")
    app = GdlabApp(served=ServeConfig((class_dir,)))
    async with app.run_test(size=SIZE) as pilot:
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        count = len(picker.entries)
        for path in (other, Path("/etc"), class_dir / ".." / "other", other / "elsewhere.toml"):
            await pilot.press("ctrl+o")  # the picker's letters type into its search
            picker.query_one("#add-path", Input).value = str(path)
            await pilot.press("enter")
            await pilot.pause()
            assert len(picker.entries) == count
            assert "refused in served mode" in str(picker.query_one("#error-panel").render())
        await pilot.press("ctrl+o")
        picker.query_one("#add-path", Input).value = str(inner)  # inside a served folder: fine
        await pilot.press("enter")
        await pilot.pause()
        assert [e.path.stem for e in picker.entries[count:]] == ["inner"]


async def test_the_form_saves_only_into_the_save_dir_or_offers_a_download(
        class_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    browser = Deliveries(monkeypatch)
    save = class_dir.parent / "saved"
    save.mkdir()
    for config, target in ((ServeConfig((class_dir,)), "mine.toml"),
                           (ServeConfig((class_dir,), save), "mine.toml"),
                           (ServeConfig((class_dir,), save), "../escape.toml")):
        app = GdlabApp(served=config)
        async with app.run_test(size=SIZE) as pilot:
            app.action_new_scenario()
            await pilot.pause()
            form = app.screen
            assert isinstance(form, NewScenarioScreen)
            form.query_one("#new-path", Input).value = target
            await form.action_save()
            await pilot.pause()
            error = str(form.query_one("#new-error").render())
    # no save dir: a download; with one: the file there; a path that leaves it: refused
    assert [f[0] for f in browser.files] == ["mine.toml"]
    assert browser.files[0][2].decode().startswith("[scenario]")
    assert sorted(p.name for p in save.iterdir()) == ["mine.toml"]
    assert "plain file name" in error
    assert not (class_dir.parent / "escape.toml").exists()


async def test_locally_the_overwrite_box_starts_unticked_and_an_existing_file_stays(
        tmp_path: Path) -> None:
    target = tmp_path / "keep.csv"
    target.write_text("mine\n")
    app = GdlabApp(scenario="target_z")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s", "e")
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        box = screen.query_one("#export-force", Checkbox)
        assert box.display and box.value is False
        field = screen.query_one("#export-path", Input)
        assert field.value == str(Path.cwd() / "target_z_trace.csv")
        field.value = str(target)
        field.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert "already exists" in str(screen.query_one("#export-msg").render())
    assert target.read_text() == "mine\n"


def test_the_environment_carries_the_configuration(tmp_path: Path) -> None:
    config = ServeConfig((tmp_path / "a", tmp_path / "b"), tmp_path / "save")
    assert ServeConfig.from_env({"GDLAB_SERVE": config.to_env()}) == config
    assert ServeConfig.from_env({}) is None
    assert ServeConfig.from_env({"GDLAB_SERVE": "garbled"}) == ServeConfig()  # still served
    assert config.scenario_dirs == [tmp_path / "a", tmp_path / "b", tmp_path / "save"]
    assert os.environ.get("GDLAB_SERVE") is None


async def test_the_network_screens_export_is_delivered_too(
        class_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a screen that exports through the same dialog (tui/served.py decides for every screen)
    from test_network_screen import settle

    from tui import network_report

    browser = Deliveries(monkeypatch)
    before = files_under(class_dir.parent)
    app = GdlabApp(scenario="xor", served=ServeConfig((class_dir,)))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("S")
        screen = await settle(pilot)
        await pilot.press("e")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ExportScreen)
        assert dialog.query_one("#export-path", Input).value == "xor_epochs.csv"
        dialog.export()
        await pilot.pause()
        outcome = screen.outcome()  # as the trainer process sent it
        expected = network_report.csv_text([(outcome.variant, outcome.epochs)])
    assert len(outcome.epochs) == 2  # epoch 0 (before training) and the one epoch of S
    assert browser.files == [("xor_epochs.csv", "text/csv", expected.encode())]
    assert files_under(class_dir.parent) == before
