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


def describe(exc: BaseException) -> str:
    """The one line a person sees for an error.

    A GdlabError (or a NumericError) is a mistake in the input and says so itself; anything
    else reaching a person is a bug in gdlab, shown by its type and message so that it can be
    reported (``--debug`` shows its traceback on the command line).
    """
    if isinstance(exc, GdlabError | NumericError):
        return str(exc)
    text = " ".join(str(exc).split()) or "no message"
    if len(text) > 200:
        text = text[:197] + "..."
    return f"unexpected {type(exc).__name__} ({text}): this is a bug in gdlab, please report it"


def describe_file(name: object, exc: BaseException) -> str:
    """``describe`` for a file that did not load: a GdlabError names the file itself, any other
    error gets the file's name put in front."""
    return describe(exc) if isinstance(exc, GdlabError) else f"{name}: {describe(exc)}"
