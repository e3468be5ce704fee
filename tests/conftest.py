"""Shared test set-up: one BLAS thread, as the command line has; a user cache of the tests' own
(what the user's ~/.cache holds, e.g. an MNIST fetched there, is never read or written); run
``async def`` tests (the app's pilot tests) with asyncio; hypothesis without its clock (no
per-example deadline, no "too slow" health check: a busy machine is slow, the test is not
wrong)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

# the command line (tui/cli.py) and sweep workers use one BLAS thread: the tests compare their
# numbers with those, so they use one as well (set before numpy is first imported)
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

# MNIST is found in $GDLAB_MNIST_DIR (set it for the full data), else in the user cache, else the
# bundled subset: the tests get an empty cache of their own (subprocesses inherit it), so a
# machine whose cache holds something else (a partial or foreign MNIST) gives the same results
_CACHE = tempfile.mkdtemp(prefix="gdlab-test-cache-")
os.environ["XDG_CACHE_HOME"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, True)

import asyncio  # noqa: E402
import inspect  # noqa: E402

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

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
