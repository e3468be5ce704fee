"""Shared test set-up: run ``async def`` tests (the app's pilot tests) with asyncio; hypothesis
without its clock (no per-example deadline, no "too slow" health check: a busy machine is slow,
the test is not wrong)."""

from __future__ import annotations

import asyncio
import inspect

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("any_machine", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("any_machine")


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run a coroutine test function to completion in a fresh event loop."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames  # noqa: SLF001 - pytest's own list of arguments
    asyncio.run(pyfuncitem.obj(**{n: pyfuncitem.funcargs[n] for n in names}))
    return True


@pytest.fixture(autouse=True)
def _plain_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables and charts do not depend on the shell the tests run in ($COLUMNS, $NO_COLOR)."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
