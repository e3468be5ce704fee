"""The set-up of a local sweep worker process, before it imports numpy (so no numpy here).

A pool runs one worker process per core, so each uses one BLAS thread, as the command line
does (docs/benchmarks.md): the same numbers as a point run in the parent, and no
oversubscribed cores. Ctrl-C is the sweep's to handle: a worker ignores it.
"""

from __future__ import annotations

import os
import signal

BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def init_worker() -> None:
    """One BLAS thread (unless the environment says otherwise), and no SIGINT."""
    for var in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(var, "1")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
