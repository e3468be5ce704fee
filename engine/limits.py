"""Every limit gdlab puts on what comes in from outside: files, expressions, scripts, downloads.

Each limit is enforced where the input enters, and a refusal names the limit and its value.
They sit far above anything a lesson needs and far below what would make gdlab hang, exhaust
its memory or hit Python's own recursion limit. docs/robustness.md lists them for people; a
test checks that every constant here is listed there.
"""

from __future__ import annotations

# --- the shape of a scenario file (and of --set, and of a session's values) -------------------

MAX_DEPTH = 16
"""Tables and arrays nested in one another, counted from the file's top level
(``[variants.a.model]`` is 3 deep, ``x = [[1, 2]]`` under ``[params]`` 3)."""

MAX_ARRAY_ITEMS = 1_000_000
"""Numbers in one inline array (a ``[params]`` or ``[data]`` value)."""

SEED_MAX = 2**32 - 1
"""The largest seed: seeds are integers in [0, SEED_MAX], what numpy's generators take."""

INT_MAX = 2**53
"""Other integers (sizes, counts) stay at or below this, where they are exact as floats too."""

# --- expressions: [graph] nodes and [data.generate] columns --------------------------------

MAX_EXPRESSION_LENGTH = 10_000
"""Characters in one expression."""

MAX_EXPRESSION_NESTING = 100
"""Brackets open at once in one expression: ``exp((w + 1))`` nests 2 deep."""

MAX_EXPRESSION_OPERATIONS = 1_000
"""Operators and function calls in one expression: a sum of 1,001 terms has 1,000. Counted on
the text before it is parsed, so that Python's parser never nests deeper than this."""

MAX_GRAPH_NODES = 100_000
"""Nodes of one compiled graph: parameters, data, named nodes and every sub-expression."""

MAX_GRAPH_VALUES = 20_000_000
"""Numbers that the values of one graph hold together: its parameters and data, and what each
node computes (its result, or for a loss the element-wise terms it reduces), their shapes
worked out from the parameters' and data's before anything is computed. A broadcast of two
arrays of a million numbers each, or thousands of nodes over a million rows, is refused; the
gradients take about as much again."""

MAX_FORMULA_NODES = 1_000
"""Terms of a derivative formula the explain panel writes (dz/db = 3*y + 2*x); a larger
formula is left out and the panel shows the numeric chain-rule terms only."""

# --- files a person names -------------------------------------------------------------------

MAX_SCENARIO_BYTES = 10_000_000
"""Size of a scenario file (TOML)."""

MAX_CSV_BYTES = 50_000_000
"""Size of a CSV file that a scenario reads ([data.csv], or a network's source = "csv")."""

MAX_DATA_ROWS = 1_000_000
"""Rows of a CSV file, and points that [data.generate] draws."""

MAX_DATA_VALUES = 20_000_000
"""Numbers in the data of one scenario: a CSV file's cells as it is read, and the columns of
[data.generate] times its points."""

MAX_SCRIPT_BYTES = 20_000_000
"""Size of a session script that ``gdlab replay`` reads (JSON or TOML)."""

MAX_SCRIPT_ACTIONS = 10_000
"""Actions in one session script."""

MAX_STEP_COUNT = 10_000_000
"""Steps one ``step`` action of a session script may ask for."""

MAX_SCRIPT_STEPS = 50_000_000
"""Steps all the ``step`` actions of one session script may ask for together."""

MAX_NETWORK_STEPS = 1_000_000
"""Mini-batches (or epochs) one ``step`` action of a network session script may ask for; the
network screen splits a longer run into several actions."""

# --- networks ([model] of the network kind) -------------------------------------------------

MAX_LAYER_SIZE = 4_096
"""Units in one layer of a network, the input layer included (as engine/models/config.py)."""

MAX_HIDDEN_LAYERS = 10
"""Hidden layers of a network (between the input and the output layer)."""

MAX_PARAMETERS = 5_000_000
"""Weights and biases of a network, all layers together (as engine/models/config.py): a step
(a mini-batch of 10) of the largest takes about 15 ms, and its parameters, gradients and
optimizer state take a few hundred megabytes at most (bench/bench_limits.py)."""

MAX_NETWORK_POINTS = 100_000
"""Points of a network's generated data set ([data] ``n``) and rows of its CSV file."""

MAX_CLASSES = 1_000
"""Classes of a network's CSV labels (integers 0 to 999, or as many names)."""

MAX_FEATURES = 64
"""Expressions in a network's [data] ``features`` (its input layer is at most MAX_LAYER_SIZE)."""

MAX_ACTIVATIONS = 50_000_000
"""Rows of a mini-batch times the units of all the network's layers (the input's included):
the activations one training step holds, four arrays of them. A larger mini-batch is
refused; a whole data set is evaluated in chunks of rows that stay within it."""

# --- MNIST files and their download -----------------------------------------------------------

MAX_IDX_ITEMS = 1_000_000
"""Images or labels in one IDX file (MNIST's training set has 60,000); the header's count is
checked before anything is decompressed, so a file never inflates beyond what it claims."""

DOWNLOAD_MARGIN = 65_536
"""Bytes a download may exceed the uncompressed size of the file it should be (gzip's own
headers): a mirror that sends more is cut off."""

DOWNLOAD_READ_TIMEOUT = 30.0
"""Seconds a download waits for the next bytes from a mirror before trying the next one."""

DOWNLOAD_DEADLINE = 600.0
"""Seconds one file's download may take in all (a mirror that trickles is given up)."""
