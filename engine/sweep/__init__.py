"""Sweeps: a grid of settings of one scenario, each point one ordinary run, run in parallel.

- ``values``: the value-list syntax of an axis (``0.01:1.1:0.01``, ``lin``, ``log``, lists);
- ``grid``: axes, seeds and metric, the points in grid order, the size limit, ``[sweep]`` tables;
- ``point``: the one adapter to the kinds of scenario (load with overrides, run, summarise);
- ``plan``: the grid checked against its scenario, before anything runs;
- ``execute``: where points run (this process, a local process pool, a Dask cluster);
- ``rows``, ``driver``: the JSONL rows, grid order, statistics over seeds, resume.

Nothing here imports the user interface.
"""
