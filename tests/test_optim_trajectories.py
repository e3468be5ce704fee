"""Many steps of each optimizer on arrays (the path the MLP takes), against closed forms worked
out by hand, and step for step against torch.optim where torch is installed.

The closed forms:
- SGD (momentum, dampening, Nesterov, weight decay) on the quadratic f(p) = sum(a p^2) / 2,
  g = a p: the update is linear, so (p_t, v_t) = M^t (p_0, 0) for a 2 x 2 matrix M per
  coordinate; plain heavy-ball momentum also as the roots of its characteristic equation.
- Adagrad, RMSprop (plain, centered, momentum) and Adam on the gradients g_t = c r^(t-1): their
  averages are geometric sums, e.g. sum_{k<=t} beta^(t-k) q^(k-1) = (q^t - beta^t) / (q - beta).
- Two steps of each adaptive optimizer on the quadratic, written out.
The caller reuses one gradient buffer, as the MLP does: an optimizer that kept a reference to
it instead of a copy would see its state change under it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.optim import make_optimizer

A = np.array([[0.5, 2.0, 1.0], [3.0, 0.25, 1.5]])  # the quadratic's curvatures, a 2 x 3 parameter
P0 = np.array([[1.0, -2.0, 0.5], [-1.5, 3.0, 2.0]])
C = np.array([[2.0, -1.0, 0.5], [-3.0, 0.01, 4.0]])  # first gradients of the geometric sequence


def run_on_quadratic(name: str, lr: float, steps: int, **hyper: object) -> list[np.ndarray]:
    """p_0 .. p_steps of ``name`` on f = sum(A p^2)/2, one gradient buffer reused in place."""
    opt = make_optimizer(name, lr, **hyper)
    p = P0.copy()
    g = np.empty_like(p)
    out = [p.copy()]
    for _ in range(steps):
        np.multiply(A, p, out=g)  # g = A p, written into the same buffer every step
        assert opt.step("w", p, g) is p  # in place
        out.append(p.copy())
    return out


def run_on_sequence(name: str, lr: float, steps: int, r: float, **hyper: object) -> np.ndarray:
    """p after ``steps`` steps of ``name`` fed the gradients C r^(t-1) (a reused buffer)."""
    opt = make_optimizer(name, lr, **hyper)
    p = P0.copy()
    g = np.empty_like(p)
    for t in range(1, steps + 1):
        np.multiply(C, r ** (t - 1), out=g)
        opt.step("w", p, g)
    return p


def geometric(q: float, beta: float, t: int) -> float:
    """sum_{k=1..t} beta^(t-k) q^(k-1), the weight of a geometric sequence in a moving sum."""
    if q == beta:
        return t * beta ** (t - 1)
    return (q**t - beta**t) / (q - beta)


# --- SGD: the linear recurrence ----------------------------------------------------------------

def sgd_closed_form(lr: float, steps: int, momentum: float = 0.0, dampening: float = 0.0,
                    nesterov: bool = False, weight_decay: float = 0.0) -> np.ndarray:
    """p_steps from (p, v) -> M (p, v) with the gradient a' p, a' = a + weight_decay.

    heavy ball:  v' = mu v + (1-d) a' p,  p' = p - lr v'   -> M = [[1 - lr (1-d) a', -lr mu],
                                                                  [(1-d) a', mu]]
    Nesterov:    v' = mu v + a' p,  p' = p - lr (a' p + mu v')
                                                          -> M = [[1 - lr a' (1 + mu), -lr mu^2],
                                                                  [a', mu]]
    The first step has no dampening (v_1 = g_1, as torch): M_1 is M with d = 0, from v_0 = 0.
    """
    out = np.empty_like(P0)
    for idx in np.ndindex(P0.shape):
        a = A[idx] + weight_decay
        mu = momentum

        def matrix(d: float, a: float = a, mu: float = mu) -> np.ndarray:
            if nesterov:
                return np.array([[1 - lr * a * (1 + mu), -lr * mu * mu], [a, mu]])
            return np.array([[1 - lr * (1 - d) * a, -lr * mu], [(1 - d) * a, mu]])

        state = np.linalg.matrix_power(matrix(dampening), steps - 1) @ matrix(0.0) @ [P0[idx], 0.0]
        out[idx] = state[0]
    return out


@pytest.mark.parametrize("hyper", [
    {},
    {"weight_decay": 0.1},
    {"momentum": 0.9},
    {"momentum": 0.5, "dampening": 0.3},
    {"momentum": 0.7, "dampening": 0.5, "weight_decay": 0.05},
    {"momentum": 0.9, "nesterov": True},
    {"momentum": 0.6, "nesterov": True, "weight_decay": 0.2},
], ids=str)
def test_sgd_on_a_quadratic_matches_the_linear_recurrence(hyper: dict) -> None:
    lr, steps = 0.1, 30
    traj = run_on_quadratic("sgd", lr, steps, **hyper)
    for t in (1, 2, 3, 10, steps):
        np.testing.assert_allclose(traj[t], sgd_closed_form(lr, t, **hyper), rtol=1e-11,
                                   atol=1e-15, err_msg=f"step {t}")


def test_plain_sgd_is_a_geometric_sequence() -> None:
    traj = run_on_quadratic("sgd", 0.1, 20)
    for t in (1, 5, 20):  # p_t = (1 - lr a)^t p_0
        np.testing.assert_allclose(traj[t], (1 - 0.1 * A) ** t * P0, rtol=1e-13)


def test_heavy_ball_follows_its_characteristic_roots() -> None:
    """p_t = X l1^t + Y l2^t, l1,2 the roots of l^2 - (1 + mu - lr a) l + mu = 0 (complex where
    the momentum makes p oscillate), X + Y = p_0, X l1 + Y l2 = p_1 = (1 - lr a) p_0."""
    lr, mu, steps = 0.1, 0.9, 25
    traj = run_on_quadratic("momentum", lr, steps)  # momentum 0.9 by default
    for idx in np.ndindex(P0.shape):
        a, p0 = A[idx], P0[idx]
        disc = np.sqrt(complex((1 + mu - lr * a) ** 2 - 4 * mu))
        l1, l2 = ((1 + mu - lr * a) + disc) / 2, ((1 + mu - lr * a) - disc) / 2
        p1 = (1 - lr * a) * p0
        x = (p1 - l2 * p0) / (l1 - l2)
        y = p0 - x
        for t in (1, 2, 7, steps):
            assert traj[t][idx] == pytest.approx((x * l1**t + y * l2**t).real, rel=1e-10,
                                                 abs=1e-14), (idx, t)


# --- adaptive optimizers: geometric gradients ---------------------------------------------

@pytest.mark.parametrize("r", [0.8, 1.0, 1.1])
@pytest.mark.parametrize("hyper", [{}, {"lr_decay": 0.1}, {"initial_accumulator_value": 0.3},
                                   {"eps": 1e-3, "lr_decay": 0.05}], ids=str)
def test_adagrad_on_geometric_gradients(r: float, hyper: dict) -> None:
    """s_t = s_0 + c^2 sum_k r^(2(k-1));  p -= lr/(1 + (t-1) decay) * g_t / (sqrt(s_t) + eps)."""
    lr, steps = 0.1, 12
    decay = hyper.get("lr_decay", 0.0)
    s0 = hyper.get("initial_accumulator_value", 0.0)
    eps = hyper.get("eps", 1e-10)
    want = P0.copy()
    for t in range(1, steps + 1):
        s_t = s0 + C**2 * geometric(r * r, 1.0, t)
        want = want - lr / (1 + (t - 1) * decay) * C * r ** (t - 1) / (np.sqrt(s_t) + eps)
    np.testing.assert_allclose(run_on_sequence("adagrad", lr, steps, r, **hyper), want,
                               rtol=1e-12)


@pytest.mark.parametrize("r", [0.8, 1.0, 1.1])
@pytest.mark.parametrize("hyper", [{}, {"alpha": 0.9}, {"centered": True},
                                   {"momentum": 0.5}, {"centered": True, "momentum": 0.8,
                                                       "alpha": 0.95}], ids=str)
def test_rmsprop_on_geometric_gradients(r: float, hyper: dict) -> None:
    """v_t = (1-alpha) c^2 G(r^2, alpha, t), m_t = (1-alpha) c G(r, alpha, t) (centered),
    d_t = sqrt(v_t [- m_t^2]) + eps;  b_t = mu b_{t-1} + g_t/d_t, p -= lr b_t (or lr g_t/d_t)."""
    lr, steps = 0.01, 12
    alpha = hyper.get("alpha", 0.99)
    mu = hyper.get("momentum", 0.0)
    want, b = P0.copy(), np.zeros_like(P0)
    for t in range(1, steps + 1):
        g_t = C * r ** (t - 1)
        v_t = (1 - alpha) * C**2 * geometric(r * r, alpha, t)
        if hyper.get("centered"):
            m_t = (1 - alpha) * C * geometric(r, alpha, t)
            v_t = v_t - m_t**2
        d_t = np.sqrt(v_t) + 1e-8
        b = mu * b + g_t / d_t
        want = want - lr * (b if mu else g_t / d_t)
    np.testing.assert_allclose(run_on_sequence("rmsprop", lr, steps, r, **hyper), want,
                               rtol=1e-10)


@pytest.mark.parametrize("r", [0.8, 1.0, 1.1])
@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.5, 0.9), (0.8, 0.99)], ids=str)
def test_adam_on_geometric_gradients(r: float, betas: tuple[float, float]) -> None:
    """m_t = (1-b1) c G(r, b1, t), v_t = (1-b2) c^2 G(r^2, b2, t);
    p -= lr/(1 - b1^t) * m_t / (sqrt(v_t)/sqrt(1 - b2^t) + eps)."""
    b1, b2 = betas
    lr, steps = 0.05, 15
    want = P0.copy()
    for t in range(1, steps + 1):
        m_t = (1 - b1) * C * geometric(r, b1, t)
        v_t = (1 - b2) * C**2 * geometric(r * r, b2, t)
        want = want - lr / (1 - b1**t) * m_t / (np.sqrt(v_t) / math.sqrt(1 - b2**t) + 1e-8)
    np.testing.assert_allclose(run_on_sequence("adam", lr, steps, r, betas=list(betas)), want,
                               rtol=1e-12)


def test_adam_with_a_constant_gradient_steps_lr_every_time() -> None:
    """r = 1: the bias corrections make m_hat = c and v_hat = c^2, so each step is
    lr c / (|c| + eps): after T steps p_0 - T lr c / (|c| + eps)."""
    p = run_on_sequence("adam", 0.05, 40, 1.0)
    np.testing.assert_allclose(p, P0 - 40 * 0.05 * C / (np.abs(C) + 1e-8), rtol=1e-12,
                               atol=1e-14)  # some entries land near 0: absolute there


# --- two steps on the quadratic, written out -------------------------------------------------

def test_two_adaptive_steps_on_the_quadratic_by_hand() -> None:
    """(Absolute 1e-15 too: a first step of lr sign(g) brings some entries to about 1e-7.)"""
    lr = 0.1
    g1 = A * P0
    # Adam: the first step is lr * g/(|g| + eps/sqrt(1-b2)*...) = lr sign(g) up to eps
    adam = run_on_quadratic("adam", lr, 2)
    p1 = P0 - lr * (0.1 * g1) / 0.1 / (np.sqrt(0.001 * g1**2) / math.sqrt(0.001) + 1e-8)
    np.testing.assert_allclose(adam[1], p1, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(adam[1], P0 - lr * np.sign(g1), rtol=1e-7)
    g2 = A * p1
    m2 = 0.9 * 0.1 * g1 + 0.1 * g2
    v2 = 0.999 * 0.001 * g1**2 + 0.001 * g2**2
    p2 = p1 - lr / (1 - 0.9**2) * m2 / (np.sqrt(v2) / math.sqrt(1 - 0.999**2) + 1e-8)
    np.testing.assert_allclose(adam[2], p2, rtol=1e-13, atol=1e-15)
    # RMSprop (alpha 0.99): v1 = 0.01 g1^2, so the first step is lr g1 / (0.1 |g1| + eps)
    rms = run_on_quadratic("rmsprop", lr, 2)
    p1 = P0 - lr * g1 / (np.sqrt(0.01 * g1**2) + 1e-8)
    np.testing.assert_allclose(rms[1], p1, rtol=1e-13, atol=1e-15)
    g2 = A * p1
    v2 = 0.99 * 0.01 * g1**2 + 0.01 * g2**2
    np.testing.assert_allclose(rms[2], p1 - lr * g2 / (np.sqrt(v2) + 1e-8), rtol=1e-13, atol=1e-15)
    # Adagrad: s1 = g1^2, s2 = g1^2 + g2^2
    ada = run_on_quadratic("adagrad", lr, 2)
    p1 = P0 - lr * g1 / (np.abs(g1) + 1e-10)
    g2 = A * p1
    np.testing.assert_allclose(ada[2], p1 - lr * g2 / (np.sqrt(g1**2 + g2**2) + 1e-10),
                               rtol=1e-13, atol=1e-15)


# --- against torch.optim, step for step -------------------------------------------------------

TORCH_CASES = [
    ("sgd", {}, {}),
    ("sgd", {"momentum": 0.9, "dampening": 0.3, "weight_decay": 0.1},
     {"momentum": 0.9, "dampening": 0.3, "weight_decay": 0.1}),
    ("momentum", {}, {"momentum": 0.9}),
    ("nesterov", {"weight_decay": 0.05}, {"momentum": 0.9, "nesterov": True, "weight_decay": 0.05}),
    ("adagrad", {"lr_decay": 0.1, "initial_accumulator_value": 0.2, "eps": 1e-6},
     {"lr_decay": 0.1, "initial_accumulator_value": 0.2, "eps": 1e-6}),
    ("adagrad", {"weight_decay": 0.1}, {"weight_decay": 0.1}),
    ("rmsprop", {"momentum": 0.5}, {"momentum": 0.5}),
    ("rmsprop", {"centered": True}, {"centered": True}),
    ("rmsprop", {"centered": True, "momentum": 0.8, "alpha": 0.9, "weight_decay": 0.1},
     {"centered": True, "momentum": 0.8, "alpha": 0.9, "weight_decay": 0.1}),
    ("adam", {}, {}),
    ("adam", {"betas": [0.5, 0.9], "eps": 1e-4, "weight_decay": 0.2},
     {"betas": (0.5, 0.9), "eps": 1e-4, "weight_decay": 0.2}),
]


@pytest.mark.parametrize(("name", "ours", "theirs"), TORCH_CASES, ids=lambda v: str(v))
def test_matrix_parameters_match_torch_step_for_step(name: str, ours: dict, theirs: dict) -> None:
    """A 2 x 3 parameter on sum(A p^4)/4 (gradient A p^3, a non-quadratic bowl), 60 steps,
    float64: every step agrees to 1e-12."""
    torch = pytest.importorskip("torch", reason="torch is not installed (pip install torch)")
    lr = 0.02
    cls = {"sgd": torch.optim.SGD, "momentum": torch.optim.SGD, "nesterov": torch.optim.SGD,
           "adagrad": torch.optim.Adagrad, "rmsprop": torch.optim.RMSprop,
           "adam": torch.optim.Adam}[name]
    tp = torch.tensor(P0, dtype=torch.float64, requires_grad=True)
    topt = cls([tp], lr=lr, **theirs)
    ta = torch.tensor(A, dtype=torch.float64)
    opt = make_optimizer(name, lr, **ours)
    p = P0.copy()
    g = np.empty_like(p)
    for step in range(60):
        topt.zero_grad()
        (ta * tp**4 / 4).sum().backward()
        topt.step()
        np.multiply(A, p**3, out=g)
        opt.step("w", p, g)
        np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-12, atol=1e-14,
                                   err_msg=f"step {step + 1}")
