"""Hostile variants of the bundled scenarios and of session scripts, rebuilt from a number.

``scenario_case(n)`` and ``script_case(n)`` make the same mutated text from ``n`` every time
(one ``random.Random(n)``), so a failure found by tools/fuzz_campaign.py or tests/test_fuzz.py
is reproduced from its number alone. tools/fuzzing.py runs them through gdlab.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from engine.bundled import BUNDLED_DIR

# --- what a mutation may put in -------------------------------------------------------------

NUMBERS = [
    "9" * 400, "-" + "9" * 400, "-1", "0", "-0.0", "1", "2", "0.5", "-0.5", "3", "100000",
    "nan", "inf", "-inf", "+inf", "true", "false", '"false"', '"true"', '"1"', '"nan"', '""',
    "1e308", "-1e308", "1.7976931348623157e308", "5e-324", "1e-320", "9223372036854775808",
    "-9223372036854775809", "18446744073709551616", "2147483648", "4294967296", "1_000_000",
    "[]", "[1, 2]", "[[1, 2], [3]]", "[nan]", "[inf, 1]", "[true]", '["a"]', "{}", "{a = 1}",
    "0x10", "0o7", "0b101", "1979-05-27", "12:00:00", "4096", "4097", "60000",
    "[784, 4096, 10]", "[784, 100000, 10]", "[784, 30]", "[784, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 10]",
]
STRINGS = [
    "", " ", "false", "true", "0", "nan", "inf", "x" * 20_000, "w" + "+w" * 1_200,
    "-" * 1_100 + "w", "(" * 150 + "w" + ")" * 150, "exp(" * 120 + "w" + ")" * 120,
    "not w", "w.__class__", "__import__('os')", "w if w else w", "lambda: 0", "[w]", "{w}",
    "w @ w", "w ** w ** w ** w", "1/0", "log(-1)", "sqrt(-1)", "exp(1000)", "w" * 300,
    "\u0000", "\ufeffw", "w\n+w", "é", "../../../../etc/passwd", "/dev/zero", "/proc/self/mem",
    "fixed", "recomputed", "sgd", "adam", "momentum", "rmsprop", "adagrad", "nesterov",
    "target", "gradient", "step", "exponential", "constant", "mnist", "relu", "sigmoid",
    "softmax", "quadratic", "cross_entropy", "normal", "uniform(-1, 1)", "linspace(0, 1)",
    "normal(0, -1)", "uniform(0, 1e308) * 1e308", "mean(x)", "sum(w)", "z", "w", "b",
]
KEYS = [
    "rule", "output", "train", "max_iterations", "tolerance", "target", "factor", "split",
    "lr", "optimizer", "grad_tolerance", "batch_size", "epochs", "seed", "schedule",
    "step_size", "gamma", "momentum", "dampening", "nesterov", "weight_decay", "lr_decay",
    "initial_accumulator_value", "eps", "alpha", "centered", "betas", "layers", "activation",
    "cost", "init", "report_every", "shuffle_seed", "patience", "validation", "kind", "n",
    "noise", "file", "columns",
    "delimiter", "source", "path", "train_limit", "test_limit", "name", "title", "w", "b", "x",
]
TABLES = ["scenario", "params", "data", "data.csv", "data.generate", "graph", "run",
          "variants.v", "model", "variants.fixed.x", "variants.v.model", "variants.v.data"]

_NUMBER = re.compile(r"(?<![\w.\"'])[-+]?(?:\d[\d_]*\.?\d*(?:[eE][-+]?\d+)?|inf|nan)(?![\w.])")
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_KEY_LINE = re.compile(r"^[ \t]*[A-Za-z_][\w.\"' -]*=.*$", re.M)
_HEADER = re.compile(r"^\[[^\]\n]+\]+[ \t]*$", re.M)


def _sub_at(rng: random.Random, pattern: re.Pattern[str], text: str,
            make: Callable[[str], str]) -> str:
    spots = list(pattern.finditer(text))
    if not spots:
        return text
    m = rng.choice(spots)
    return text[:m.start()] + make(m.group(0)) + text[m.end():]


def _lines(text: str) -> list[str]:
    return text.split("\n")


def m_number(rng: random.Random, text: str) -> str:
    return _sub_at(rng, _NUMBER, text, lambda _: rng.choice(NUMBERS))


def m_string(rng: random.Random, text: str) -> str:
    return _sub_at(rng, _STRING, text, lambda _: json.dumps(rng.choice(STRINGS)))


def m_lengthen(rng: random.Random, text: str) -> str:
    """An expression (any quoted string) repeated, nested in calls, or negated many times."""
    k = rng.choice([2, 10, 100, 500, 1001, 3000])

    def grow(quoted: str) -> str:
        e = quoted[1:-1]
        how = rng.randrange(4)
        if how == 0:
            return '"' + "+".join([f"({e})"] * k) + '"'
        if how == 1:
            return '"' + "exp(" * min(k, 400) + e + ")" * min(k, 400) + '"'
        if how == 2:
            return '"' + "-" * k + f"({e})" + '"'
        return '"' + "*".join([e] * k) + '"'

    return _sub_at(rng, _STRING, text, grow)


def m_nest(rng: random.Random, text: str) -> str:
    """A value wrapped in lists (or inline tables) many levels deep."""
    k = rng.choice([1, 2, 3, 10, 40, 300, 2000])

    def wrap(v: str) -> str:
        if rng.random() < 0.5:
            return "[" * k + v + "]" * k
        return "{a = " * k + v + "}" * k

    return _sub_at(rng, _NUMBER if rng.random() < 0.5 else _STRING, text, wrap)


def m_deep_key(rng: random.Random, text: str) -> str:
    """A dotted key or a table header many levels deep."""
    k = rng.choice([2, 5, 50, 500, 3000])
    lines = _lines(text)
    i = rng.randrange(len(lines) + 1)
    if rng.random() < 0.5:
        lines.insert(i, "a" + ".a" * k + " = 1")
    else:
        lines.insert(i, "[" + ".".join(["t"] * k) + "]")
    return "\n".join(lines)


def m_insert_key(rng: random.Random, text: str) -> str:
    """A known key with a hostile value, under some table (a header added if need be)."""
    value = rng.choice(NUMBERS) if rng.random() < 0.6 else json.dumps(rng.choice(STRINGS))
    line = f"{rng.choice(KEYS)} = {value}"
    lines = _lines(text)
    headers = [i for i, ln in enumerate(lines) if _HEADER.match(ln)]
    if headers and rng.random() < 0.8:
        i = rng.choice(headers) + 1
    else:
        lines.append(f"[{rng.choice(TABLES)}]")
        i = len(lines)
    lines.insert(i, line)
    return "\n".join(lines)


def m_move_line(rng: random.Random, text: str) -> str:
    """A key = value line moved under another table (or duplicated there)."""
    lines = _lines(text)
    keys = [i for i, ln in enumerate(lines) if _KEY_LINE.match(ln)]
    headers = [i for i, ln in enumerate(lines) if _HEADER.match(ln)]
    if not keys or not headers:
        return text
    src = rng.choice(keys)
    line = lines[src] if rng.random() < 0.5 else lines.pop(src)
    headers = [i for i, ln in enumerate(lines) if _HEADER.match(ln)]
    lines.insert(rng.choice(headers) + 1, line)
    return "\n".join(lines)


def m_lines(rng: random.Random, text: str) -> str:
    """A line deleted, duplicated or swapped with another."""
    lines = _lines(text)
    if len(lines) < 2:
        return text
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    how = rng.randrange(3)
    if how == 0:
        del lines[i]
    elif how == 1:
        lines.insert(j, lines[i])
    else:
        lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


def m_bytes(rng: random.Random, text: str) -> str:
    """A character changed, inserted or deleted, or the text cut short."""
    if not text:
        return text
    i = rng.randrange(len(text))
    how = rng.randrange(4)
    ch = rng.choice('[]{}"\'=.,#\\\n\t 0123456789-+eE_aZ\u00e9\u0000\ud7ff')
    if how == 0:
        return text[:i] + ch + text[i + 1:]
    if how == 1:
        return text[:i] + ch + text[i:]
    if how == 2:
        return text[:i] + text[i + 1:]
    return text[:i]


SCENARIO_MUTATIONS = [
    (m_number, 6), (m_string, 4), (m_lengthen, 2), (m_nest, 1), (m_deep_key, 1),
    (m_insert_key, 5), (m_move_line, 2), (m_lines, 2), (m_bytes, 1),
]


def _pick(rng: random.Random, weighted: list[tuple[Callable, int]]) -> Callable:
    return rng.choices([f for f, _ in weighted], [w for _, w in weighted])[0]


# --- cases ------------------------------------------------------------------------------------

def bundled() -> list[tuple[str, str]]:
    """(file name, text) of every bundled scenario, the seeds of the mutations."""
    return [(p.name, p.read_text(encoding="utf-8")) for p in sorted(BUNDLED_DIR.glob("*.toml"))]


_SEEDS: list[tuple[str, str]] = []


@dataclass
class Case:
    """One hostile input: a scenario file's text (``kind`` "scenario") or a script's."""

    number: int
    kind: str  # "scenario" or "script"
    name: str  # the seed it was made from
    text: str


def scenario_case(n: int) -> Case:
    """Case number ``n``: a bundled scenario with one to three mutations."""
    if not _SEEDS:
        _SEEDS.extend(bundled())
    rng = random.Random(n)
    name, text = rng.choice(_SEEDS)
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
        text = _pick(rng, SCENARIO_MUTATIONS)(rng, text)
    return Case(n, "scenario", name, text)


def _seed_scripts() -> list[list[dict]]:
    graph = [n[:-5] for n, t in bundled() if "[model]" not in t]
    out = []
    for name in graph:
        out.append([{"do": "open", "scenario": name}, {"do": "step", "count": 3},
                    {"do": "set", "key": "lr", "value": 0.1}, {"do": "step", "count": 2},
                    {"do": "reset"}, {"do": "step", "count": 2}])
    out.append([{"do": "open", "scenario": "target_z", "variant": "fixed"},
                {"do": "param", "name": "b", "value": 5.0}, {"do": "train", "name": "w", "on": True},
                {"do": "step", "count": 4}, {"do": "set", "key": "factor", "value": "recomputed"},
                {"do": "step", "count": 40}, {"do": "set", "key": "target", "value": 140.0},
                {"do": "step", "count": 2}])
    out.append([{"do": "open", "scenario": "rosenbrock"},
                {"do": "set", "key": "optimizer", "value": "adam"},
                {"do": "set", "key": "betas", "value": [0.8, 0.99]},
                {"do": "set", "key": "schedule", "value": "step"},
                {"do": "set", "key": "batch_size", "value": None}, {"do": "step", "count": 5}])
    out.append([{"do": "open", "scenario": "mnist_mlp"}, {"do": "step", "count": 1}])
    return out


SCRIPT_VALUES: list[object] = [
    None, True, False, 0, -1, 1, 3, 10**400, -(10**400), 2**63, 1e308, float("nan"),
    float("inf"), -float("inf"), 0.5, "", "false", "true", "x" * 5000, "nan", "1e999", [],
    [1], [0.9, 0.999], [[[]]], {}, {"do": "reset"}, "target_z", "/dev/zero", "lr", "seed",
    "momentum", "schedule", "optimizer", "adam", "sgd", "fixed", "w", "b", "x", 10_000_000,
    10_000_001, 50_000_001, 1.5, "3",
]


def script_case(n: int, quick: bool = False) -> Case:
    """Case number ``n``: a session script with one to three mutations (of its structure, its
    values, or its JSON text), sometimes carrying a mutated scenario in a 'scenario' action.
    ``quick`` repeats an action at most 50 times, not 5,000 (the CI test's budget)."""
    rng = random.Random(n)
    seeds = _seed_scripts()
    actions = json.loads(json.dumps(rng.choice(seeds)))
    if rng.random() < 0.15:
        actions[0] = {"do": "scenario", "toml": scenario_case(rng.randrange(10**9)).text}
    data: object = {"gdlab_session": 1, "actions": actions}
    for _ in range(rng.choice([1, 1, 2, 3])):
        data = _mutate_json(rng, data, quick)
    text = re.sub(r'"@@nest(\d+)@@"', lambda m: "[" * int(m.group(1)) + "0.5" + "]" * int(m.group(1)),
                  json.dumps(data, allow_nan=True))
    if rng.random() < 0.2:
        text = _json_text_mutation(rng, text)
    return Case(n, "script", "script", text)


def _mutate_json(rng: random.Random, data: object, quick: bool = False) -> object:
    how = rng.randrange(6)
    acts = data.get("actions") if isinstance(data, dict) else None
    if how == 0 and isinstance(acts, list) and acts:  # a value replaced
        a = rng.choice(acts)
        if isinstance(a, dict):
            a[rng.choice([*a.keys(), "count", "value", "do", "on", "name", "key", "extra"])] = \
                rng.choice(SCRIPT_VALUES)
    elif how == 1 and isinstance(acts, list):  # an action inserted
        acts.insert(rng.randrange(len(acts) + 1), rng.choice([
            {"do": "set", "key": rng.choice(KEYS), "value": rng.choice(SCRIPT_VALUES)},
            {"do": "step", "count": rng.choice(SCRIPT_VALUES)},
            {"do": "param", "name": rng.choice(["w", "b", "x", "q"]), "value": rng.choice(SCRIPT_VALUES)},
            {"do": "train", "name": rng.choice(["w", "b", "x"]), "on": rng.choice(SCRIPT_VALUES)},
            {"do": "open", "scenario": rng.choice(SCRIPT_VALUES), "variant": rng.choice(SCRIPT_VALUES)},
            {"do": rng.choice(SCRIPT_VALUES)}, {"do": "reset"},
        ]))
    elif how == 2 and isinstance(acts, list) and acts:  # an action removed or repeated
        i = rng.randrange(len(acts))
        if rng.random() < 0.5:
            del acts[i]
        else:
            acts[i:i] = [acts[i]] * rng.choice([2, 20, 50] if quick else [2, 100, 5000])
    elif how == 3:  # nesting: a placeholder, written out as brackets once the rest is JSON
        v = f"@@nest{rng.choice([2, 10, 14, 15, 16, 100, 10_000])}@@"
        if isinstance(acts, list) and acts and isinstance(acts[0], dict):
            rng.choice(acts)["value"] = v
        else:
            data = {"gdlab_session": 1, "actions": v}
    elif how == 4 and isinstance(data, dict):  # the frame itself
        key = rng.choice(["gdlab_session", "actions", "other"])
        data[key] = rng.choice(SCRIPT_VALUES)
    elif isinstance(acts, list) and acts:  # the order
        rng.shuffle(acts)
    return data


def _json_text_mutation(rng: random.Random, text: str) -> str:
    i = rng.randrange(len(text) + 1)
    how = rng.randrange(3)
    if how == 0:
        return text[:i]
    if how == 1:
        return text[:i] + rng.choice(["[" * 5000, "{", "]", "\"", "NaN", "-Infinity", "9" * 5000,
                                      "\\ud800", ",", "\u0000"]) + text[i:]
    return text.replace('"count": ', '"count": 1' + "0" * rng.choice([3, 7, 8, 30]) + " + ", 1)
