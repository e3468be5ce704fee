"""`--debug` works for every command, before or after the command's name: a mistake then
raises with its traceback instead of the one-line message (exit status 2 without it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import GdlabError
from tui.cli import _parser, main

#: every command line the parser accepts, without --debug
COMMANDS = [["run", "target_z"], ["compare", "target_z"], ["check", "target_z"], ["list"],
            ["open"], ["open", "target_z"], ["replay", "s.json"], ["data"],
            ["data", "fetch", "mnist"], ["serve"]]


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_debug_is_accepted_in_either_position(argv: list[str]) -> None:
    assert _parser().parse_args(argv).debug is False
    assert _parser().parse_args(["--debug", *argv]).debug is True
    assert _parser().parse_args([*argv, "--debug"]).debug is True


def test_every_command_lists_debug_in_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["run"], ["compare"], ["check"], ["list"], ["open"], ["replay"], ["data"],
                 ["data", "fetch"], ["serve"]):
        with pytest.raises(SystemExit):
            main([*argv, "--help"])
        assert "--debug" in capsys.readouterr().out, argv


def mistakes(tmp_path: Path) -> list[list[str]]:
    """A user mistake for each command that reports one."""
    return [["run", "no_such_scenario"], ["compare", "no_such_scenario"],
            ["check", "target_z", "no_such_scenario"], ["list", str(tmp_path / "no_folder")],
            ["replay", str(tmp_path / "no_script.json")], ["data"]]


@pytest.mark.parametrize("i", range(6))
def test_debug_raises_the_error_in_either_position(tmp_path: Path, i: int,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    argv = mistakes(tmp_path)[i]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("gdlab: error: ") and len(err.splitlines()) == 1
    for debug in (["--debug", *argv], [*argv, "--debug"]):
        with pytest.raises(GdlabError):
            main(debug)
