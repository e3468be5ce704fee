"""The exceptions the engine raises for a person's mistakes (as opposed to bugs)."""

from __future__ import annotations


class GdlabError(Exception):
    """A user-facing error: its message is one clear line, shown without a traceback."""


class ScenarioError(GdlabError):
    """A scenario file is missing, malformed or inconsistent; the message names file and key."""


class ExpressionError(ScenarioError):
    """An expression in a scenario file uses something outside the safe language."""


class DataError(ScenarioError):
    """A data source (CSV, generated data, MNIST files) is missing or malformed."""


class NumericError(ArithmeticError):
    """A value became NaN or infinite (or a math domain error happened) at a named node."""

    def __init__(self, node: str, message: str) -> None:
        super().__init__(f"{message} at node '{node}'")
        self.node = node
        self.message = message
