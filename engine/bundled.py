"""Where the bundled scenarios live: the installed package ``gdlab_scenarios`` (``scenarios/``).

Found through ``importlib.resources``, so a regular install (a wheel, pipx) finds them as well as
an editable one; nothing is read relative to the source tree.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def bundled_dir() -> Path:
    """The folder of the bundled scenario files (a real folder: gdlab is installed unzipped)."""
    return Path(str(resources.files("gdlab_scenarios"))).resolve()


BUNDLED_DIR = bundled_dir()


#: The bundled scenarios in the order of a course: the README's main example (driving z to a
#: target) first, then the other target-rule lessons, gradient descent from one variable to
#: optimizers on hard surfaces, then networks from one neuron to MNIST. Lists and the picker use it;
#: a bundled file missing here comes after these, by name (a test asks for every file here).
COURSE = (
    "target_z", "target_z_w", "split_error", "nonlinear_target",
    "gd_square", "learning_rates", "learning_rate_sweep", "gd_two_variables",
    "regression_linear", "regression_quadratic", "regression_csv",
    "rosenbrock", "beale", "momentum_map",
    "logic_gates", "xor_2_2_1", "circle", "xor", "gauss", "spiral", "three_class", "sin_fit",
    "mnist_mlp", "mnist_mlp_ce", "mnist_init", "mnist_l2", "mnist_batch_lr",
    "vanishing_gradient",
)


def course_rank(path: Path) -> tuple[int, str]:
    """Sort key of a bundled scenario file: its place in COURSE, then its name."""
    name = path.stem
    return (COURSE.index(name) if name in COURSE else len(COURSE), name)
