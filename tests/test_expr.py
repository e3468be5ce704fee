"""The safe expression language: what parses, what is refused (with file, node and text), and
that nothing but ExpressionError/ScenarioError escapes the parser."""

from __future__ import annotations

import ast
import math
import re
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import ExpressionError, ScenarioError
from engine.expr import MAX_LENGTH, Expr, evaluate, parse
from engine.graph import Graph
from engine.limits import MAX_EXPRESSION_NESTING, MAX_EXPRESSION_OPERATIONS

ENGINE = Path(__file__).resolve().parent.parent / "engine"


def refused(text: str, *fragments: str) -> str:
    """Build a one-node graph from ``text``; assert it is refused naming file, node and text."""
    with pytest.raises(ExpressionError) as ei:
        Graph.build({"w": 1.0, "b": 2.0}, {}, {"z": text}, "bad.toml")
    msg = str(ei.value)
    assert msg.startswith("bad.toml: [graph] node 'z': "), msg
    assert "\n" not in msg
    for frag in fragments:
        assert frag in msg, (frag, msg)
    return msg


# --- accepted ------------------------------------------------------------------------------

def test_parse_tree_shape_and_texts():
    e = parse("2*w + 3*b", {"w", "b"})
    assert e.kind == "op" and e.name == "add" and e.text == "2*w + 3*b"
    left, right = e.args
    assert left == Expr("op", "2*w", name="mul", args=(Expr("const", "2", value=2.0),
                                                       Expr("name", "w", name="w")))
    assert right.text == "3*b"
    assert e.names() == {"w", "b"}


def test_unary_minus_and_plus_fold_into_constants():
    assert parse("-3", set()).value == -3.0
    assert parse("+3", set()).value == 3.0
    assert parse("-w", {"w"}).name == "neg"
    assert parse("--2", set()).value == 2.0


def test_constants_pi_and_e_unless_defined():
    assert parse("pi", set()).value == math.pi
    assert parse("e", set()).value == math.e
    assert parse("e", {"e"}) == Expr("name", "e", name="e")  # a scenario's own 'e' wins


@pytest.mark.parametrize("text,want", [
    ("1 + 2 * 3", 7.0), ("2 ** 3 ** 2", 512.0), ("(1 - 4) / 2", -1.5), ("-2 ** 2", -4.0),
    ("exp(0) + log(1) + sqrt(9) + abs(-2)", 6.0), ("1e-3 * 1000", 1.0), ("0x10", 16.0),
])
def test_evaluate_arithmetic(text, want):
    from engine.ops import OPS

    got = evaluate(parse(text, set()), {}, lambda name, *a: OPS[name].forward(*a))
    assert got == want


def test_whitespace_around_the_expression_is_ignored():
    assert parse("  w * 2 \n", {"w"}).text == "w * 2"


# --- refused, each naming file, node and the offending text ---------------------------------

@pytest.mark.parametrize("text,frags", [
    ("w + q", ["unknown name 'q'", "defined names: b, w", "'w + q'"]),
    ("w.__class__", ["attribute access not allowed", "'w.__class__'"]),
    ("w.real + 1", ["attribute access", "w.real"]),
    ("w[0]", ["subscripts not allowed", "'w[0]'"]),
    ("(lambda: 1)()", ["only the listed functions may be called", "lambda: 1"]),
    ("lambda w: w", ["lambdas not allowed"]),
    ("[w for w in b]", ["comprehensions not allowed"]),
    ("sum(w for w in b)", ["comprehensions not allowed"]),
    ("{w: 1 for w in b}", ["comprehensions not allowed"]),
    ("{w for w in b}", ["comprehensions not allowed"]),
    ("exp(x=w)", ["keyword arguments are not allowed", "exp(x=w)"]),
    ("open('x')", ["call of 'open' is not allowed", "open('x')"]),
    ("__import__('os')", ["call of '__import__' is not allowed"]),
    ("eval('1')", ["call of 'eval' is not allowed"]),
    ("exec('1')", ["call of 'exec' is not allowed"]),
    ("w(2)", ["call of 'w' is not allowed"]),
    ("(w + b)(2)", ["only the listed functions may be called", "'w + b'"]),
    ("exp(w)(2)", ["only the listed functions may be called", "'exp(w)'"]),
    ("'abc'", ["only numbers are allowed as constants", "'abc'"]),
    ("b'abc'", ["only numbers are allowed as constants"]),
    ("f'{w}'", ["strings not allowed"]),
    ("True", ["only numbers are allowed as constants", "True"]),
    ("w + False", ["only numbers are allowed as constants", "False"]),
    ("None", ["only numbers are allowed as constants"]),
    ("1j", ["only numbers are allowed as constants", "1j"]),
    ("...", ["only numbers are allowed as constants"]),
    ("w < b", ["comparisons not allowed", "'w < b'"]),
    ("w == b", ["comparisons not allowed"]),
    ("w and b", ["boolean operators not allowed"]),
    ("not w", ["operator not allowed", "'not w'"]),
    ("~w", ["operator not allowed"]),
    ("w if b else 1", ["conditional expressions not allowed"]),
    ("(q := 1)", ["assignment expressions not allowed", "q := 1"]),
    ("exp(*b)", ["starred arguments are not allowed", "exp(*b)"]),
    ("l2(**b)", ["keyword arguments are not allowed"]),
    ("w % b", ["operator not allowed", "'w % b'"]),
    ("w // b", ["operator not allowed"]),
    ("w << 1", ["operator not allowed"]),
    ("w ^ b", ["operator not allowed", "use ** for powers: w ** b"]),
    ("x**3 + (x+1)^2", ["use ** for powers: x**3 + (x+1)**2"]),
    ("x^2 + y^2", ["use ** for powers: x**2 + y**2"]),
    ("w | b", ["operator not allowed"]),
    ("(w, b)", ["tuples not allowed"]),
    ("[w, b]", ["list literals not allowed"]),
    ("{w: b}", ["dict literals not allowed"]),
    ("{w}", ["set literals not allowed"]),
    ("exp(w, b)", ["exp() takes 1 argument, got 2"]),
    ("exp()", ["exp() takes 1 argument, got 0"]),
    ("mse(w)", ["mse() takes 2 arguments, got 1"]),
    ("softmax_ce(w, b, w)", ["softmax_ce() takes 2 arguments, got 3"]),
    ("l2()", ["l2() takes at least 1 argument, got 0"]),
    ("exp", ["'exp' is a function: call it as exp(...)"]),
    ("w +", ["invalid syntax"]),
    ("w = 1", ["invalid syntax"]),
    ("import os", ["invalid syntax"]),
    ("w; b", ["invalid syntax"]),
    ("1" * 5000, ["invalid syntax"]),
    ("9" * 400, ["number too large"]),
], ids=lambda v: v[:30] if isinstance(v, str) else None)
def test_refused_constructs(text, frags):
    refused(text, *frags)


def test_refusal_message_names_file_node_and_text_exactly():
    msg = refused("w.__class__")
    assert msg == "bad.toml: [graph] node 'z': attribute access not allowed: 'w.__class__' " \
                  "in 'w.__class__'"


def test_call_of_a_non_function_suggests_the_allowed_ones():
    msg = refused("open('x')")
    assert "functions: abs, bce, bce_logits, cos, exp, l2, log, mae, mean, mse, relu, sigmoid, " \
           "sin, softmax_ce, sqrt, sse, sum, tanh" in msg


def test_operator_spelled_functions_are_not_callable():
    refused("add(w, b)", "call of 'add' is not allowed")
    refused("matmul(w, b)", "call of 'matmul' is not allowed")


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_expression(text):
    msg = refused(text)
    assert msg == "bad.toml: [graph] node 'z': empty expression"


def test_oversized_expression():
    text = "w" + " + w" * (MAX_LENGTH // 4 + 1)
    assert len(text) > MAX_LENGTH
    msg = refused(text, f"expression longer than {MAX_LENGTH} characters (the limit; it has "
                        f"{len(text)})")
    assert len(msg) < 300  # the message does not repeat ten thousand characters


def test_a_sum_at_the_operation_limit_compiles_and_differentiates():
    # 1,001 terms are 1,000 additions: z = 1001*w, dz/dw = 1001 (and no RecursionError
    # anywhere: parsing, compiling, the forward and the backward pass)
    terms = MAX_EXPRESSION_OPERATIONS + 1
    g = Graph.build({"w": 0.5}, {}, {"z": "+".join(["w"] * terms)}, "long.toml")
    g.forward()
    assert g.value("z") == terms * 0.5
    assert g.gradients("z") == {"w": float(terms)}
    msg = refused("+".join(["w"] * (terms + 1)))
    assert f"{terms} operators and calls (the limit is {MAX_EXPRESSION_OPERATIONS} per " \
           "expression" in msg


@pytest.mark.parametrize("text,value,grad", [
    ("-" * MAX_EXPRESSION_OPERATIONS + "w", 0.5, 1.0),  # an even number of minus signs
    ("w" + "**w" * MAX_EXPRESSION_OPERATIONS, 1.0, 1.0),  # w^(w^(...)) at w = 1: 1, slope 1
    ("(" * MAX_EXPRESSION_NESTING + "w" + ")" * MAX_EXPRESSION_NESTING, 0.5, 1.0),
    ("exp(" * MAX_EXPRESSION_NESTING + "w" + ")" * MAX_EXPRESSION_NESTING, None, None),
], ids=["minus", "powers", "parens", "calls"])
def test_deep_expressions_at_the_limits_are_accepted_even_from_a_deep_stack(text, value, grad):
    w = 1.0 if "**" in text else 0.5

    def build(depth: int) -> Graph:  # called with 600 frames of Python's stack already used
        return build(depth - 1) if depth else Graph.build({"w": w}, {}, {"z": text}, "deep.toml")

    g = build(600)
    if value is None:  # exp(exp(...)) overflows: reported as the node where it happened
        with pytest.raises(ArithmeticError):
            g.forward()
        return
    g.forward()
    assert g.value("z") == value
    assert g.gradients("z")["w"] == pytest.approx(grad)


@pytest.mark.parametrize("text,limit", [
    ("-" * 5000 + "w", "5000 operators and calls (the limit is 1000"),
    ("(" * 300 + "w" + ")" * 300, "brackets nested 300 deep (the limit is 100)"),
    ("exp(" * 1200 + "w" + ")" * 1200, "brackets nested 1200 deep (the limit is 100)"),
    ("w" + "**w" * 3000, "3000 operators and calls (the limit is 1000"),
    ("not " * 2000 + "w", "2000 operators and calls"),
    ("w" + ".a" * 2000, "2000 operators and calls"),
    ("(" * 101 + "w" + ")" * 101, "brackets nested 101 deep (the limit is 100)"),
], ids=["minus", "parens", "calls", "powers", "not", "attributes", "parens-101"])
def test_deeply_nested_expressions_are_refused_naming_the_limit(text, limit):
    msg = refused(text, limit)
    assert len(msg) < 400


def test_non_string_expression():
    with pytest.raises(ExpressionError, match="expected an expression string, got 3"):
        parse(3, set(), source="bad.toml")


def test_cycle_between_nodes_names_the_path():
    with pytest.raises(ExpressionError) as ei:
        Graph.build({"w": 1.0}, {}, {"a": "b + 1", "b": "a * 2"}, "bad.toml")
    msg = str(ei.value)
    assert msg.startswith("bad.toml: [graph] node '")
    assert re.search(r"cycle between graph nodes \((a -> b -> a|b -> a -> b)\)", msg), msg


def test_syntax_error_names_the_column():
    msg = refused("w + * b")
    assert "invalid syntax at column" in msg


def test_custom_function_table_for_data_generation():
    class F:
        arity = 2

    e = parse("uniform(0, 1) * 2", set(), functions={"uniform": F()})
    assert e.args[0].name == "uniform"
    with pytest.raises(ExpressionError, match="call of 'exp' is not allowed"):
        parse("exp(1)", set(), functions={"uniform": F()})
    # the named constants stay available (data generation may use pi)
    assert parse("pi", set(), functions={"uniform": F()}).value == pytest.approx(3.141592653589793)


# --- fuzzing: only ExpressionError / ScenarioError escape ----------------------------------

_TOKENS = st.sampled_from([
    "w", "b", "q", "exp", "log", "l2", "sum", "(", ")", "[", "]", "{", "}", ",", ".", ":", "=",
    ":=", "+", "-", "*", "/", "**", "@", "%", "<", "not", "and", "lambda", "for", "in", "if",
    "else", "1", "0", "1e308", "1e999", "0x", "'s'", '"', "\\", "#", " ", "\n", "__import__",
    "__class__", "*args", "**kw", "...", "j", "_", "9" * 30, "yield", "await", "async",
])


def _parse_quietly(text: str) -> None:
    try:
        parse(text, {"w", "b"}, source="fuzz.toml", where="[graph] node 'z'")
    except (ExpressionError, ScenarioError) as exc:
        msg = str(exc)
        assert msg.startswith("fuzz.toml: [graph] node 'z': ")


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=60))
def test_random_text_raises_only_expression_errors(text):
    _parse_quietly(text)


@settings(max_examples=400, deadline=None)
@given(st.lists(_TOKENS, max_size=25).map("".join))
def test_random_token_soup_raises_only_expression_errors(text):
    _parse_quietly(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(_TOKENS, max_size=25).map(" ".join))
def test_random_token_soup_in_a_graph_raises_only_scenario_errors(text):
    try:
        g = Graph.build({"w": 1.0, "b": 2.0}, {}, {"z": text}, "fuzz.toml")
    except ScenarioError as exc:
        assert str(exc).startswith("fuzz.toml: ")
        return
    try:
        g.forward()
    except (ArithmeticError, ScenarioError):
        pass


@pytest.mark.parametrize("text", [r"x + '\.'", r'"\d" * x', r"x + b'\q'"])
def test_a_string_is_refused_in_one_line_without_a_python_warning(text):
    # Python's parser warns of an invalid escape sequence (a SyntaxWarning, printed by default
    # on 3.12 and later: a stray line before gdlab's own message); the parser is silenced
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with pytest.raises(ExpressionError, match="only numbers are allowed as constants"):
            parse(text, {"x"}, source="s.toml", where="[graph] node 'J'")
    assert [str(w.message) for w in seen] == []


# --- the engine never evaluates text ------------------------------------------------------

def _engine_sources() -> list[Path]:
    files = sorted(ENGINE.rglob("*.py"))
    assert len(files) >= 8
    return files


def test_engine_sources_never_call_eval_or_exec():
    pattern = re.compile(r"(?<![\w.])(eval|exec|compile|__import__)\s*\(")
    offenders = []
    for path in _engine_sources():
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if pattern.search(code):
                offenders.append(f"{path.name}:{lineno}: {line.strip()}")
    assert offenders == []


def test_engine_ast_has_no_calls_of_eval_exec():
    banned = {"eval", "exec", "compile", "__import__"}
    for path in _engine_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in banned, f"{path.name}:{node.lineno}"
            if isinstance(node, ast.Name) and node.id in ("eval", "exec"):
                pytest.fail(f"{path.name}:{node.lineno} refers to {node.id}")


def test_the_grep_would_catch_a_call():
    pattern = re.compile(r"(?<![\w.])(eval|exec|compile|__import__)\s*\(")
    assert pattern.search("x = eval(text)")
    assert pattern.search("exec (code)")
    assert not pattern.search("expr.evaluate(x)")
    assert not pattern.search("self.exec(x)")
    assert not pattern.search("evaluate(tree, env)")
