"""The registry of learner cases the conformance suite runs on.

To put a new learner under the conformance suite, append one :class:`LearnerCase` to ``CASES``:

    LearnerCase(
        id="Learner1D-sin",
        make=lambda: Learner1D(sin_with_default, bounds=(-1, 1)),
        finite=False,
        settings=lambda learner: {"bounds": learner.bounds, ...},
        function_defaults={"frequency": 3},
    )

Use lambdas and closures freely: the suite checks that learners of lambdas pickle with the
standard ``pickle`` module too. Give the function at least one defaulted argument where you can,
so the ``function.<name>`` DataFrame columns are checked.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

import numpy as np
from conformance import LearnerCase, Unpicklable

from adaptive_runner import DataSaver, Learner1D, SequenceLearner, make_datasaver
from adaptive_runner.learner.learner1D import curvature_loss_function, uniform_loss

__all__ = ["CASES"]


def sequence_settings(learner: Any) -> dict[str, Any]:
    return {"type": type(learner).__name__, "sequence": learner.sequence}


# one object both DataSaver cases' arg_pickers can read, to compare them by what they pick
PICKER_SAMPLE = {"y": 1.25, "energy": -3.5, "cost": 0, "label": "sample"}


def datasaver_settings(learner: Any) -> dict[str, Any]:
    return {
        "type": type(learner).__name__,
        "wrapped": sequence_settings(learner.learner),
        "picked": learner.arg_picker(PICKER_SAMPLE),
    }


def poison_dict(result: dict) -> dict:
    """A rich result whose picked value is fine but which cannot be pickled."""
    return {**result, "blob": Unpicklable()}


def rich_result(x: int, cost: int = 3) -> dict[str, Any]:
    """A module-level function returning a rich result (pickled by reference)."""
    return {"y": x / 2, "cost": cost, "trace": [x, x + 1]}


WEIGHTS = np.array([1.0, -2.0, 0.5])

DICT_ELEMENTS = [{"a": i, "tags": [i, "t"]} for i in range(12)]

CASES: list[LearnerCase] = [
    LearnerCase(
        id="SequenceLearner-ints",
        make=lambda: SequenceLearner(lambda x, offset=1: x * x + offset, range(12)),
        settings=sequence_settings,
        function_defaults={"offset": 1},
    ),
    LearnerCase(
        id="SequenceLearner-dicts",
        make=lambda: SequenceLearner(
            lambda d, scale=2.0: d["a"] * scale + len(d["tags"]), DICT_ELEMENTS
        ),
        settings=sequence_settings,
        function_defaults={"scale": 2.0},
    ),
    LearnerCase(
        id="SequenceLearner-lists",
        make=lambda: SequenceLearner(
            lambda xs: xs[0] - xs[1], [[i, 2 * i, [i]] for i in range(12)]
        ),
        settings=sequence_settings,
    ),
    LearnerCase(
        id="SequenceLearner-arrays",
        # a closure over an array, returning arrays
        make=lambda: SequenceLearner(
            lambda a: a * WEIGHTS, [np.linspace(0.0, 1.0, 3) + i for i in range(12)]
        ),
        settings=sequence_settings,
    ),
    LearnerCase(
        id="DataSaver-SequenceLearner",
        make=lambda: DataSaver(SequenceLearner(rich_result, range(12)), itemgetter("y")),
        settings=datasaver_settings,
        function_defaults={"cost": 3},
        poison=poison_dict,
    ),
    LearnerCase(
        id="make_datasaver-SequenceLearner",
        # positional function, keyword sequence; a lambda arg_picker
        make=lambda: make_datasaver(SequenceLearner, lambda result: result["energy"])(
            lambda d: {"energy": -(d["a"] ** 2), "label": f"e{d['a']}"},
            sequence=DICT_ELEMENTS,
        ),
        settings=datasaver_settings,
        poison=poison_dict,
    ),
]


def rich_peak(x: float, a: float = 0.1) -> dict[str, Any]:
    return {"y": x + a**2 / (a**2 + x**2), "cost": abs(x), "label": f"x={x:.3f}"}


def learner1d_settings(learner: Any) -> dict[str, Any]:
    probe = (0.1, 0.2)
    return {
        "type": type(learner).__name__,
        "bounds": learner.bounds,
        "loss": learner.loss_per_interval((0.0, 0.5), probe)
        if learner.nth_neighbors == 0
        else learner.loss_per_interval((None, 0.0, 0.5, None), (None, *probe, None)),
        "nth_neighbors": learner.nth_neighbors,
    }


ONLY_FLOATS = {
    "check_save_is_atomic": "Learner1D values are numbers: no unpicklable value can be told "
    "(atomic saving is tested in tests/test_persistence.py)"
}

CASES += [
    LearnerCase(
        id="Learner1D-peak",
        make=lambda: Learner1D(lambda x, a=0.05: x + a**2 / (a**2 + x**2), bounds=(-1, 1)),
        finite=False,
        settings=learner1d_settings,
        function_defaults={"a": 0.05},
        skip=ONLY_FLOATS,
    ),
    LearnerCase(
        id="Learner1D-vector-curvature",
        make=lambda: Learner1D(
            lambda x: np.array([np.sin(5 * x), x**2]),
            bounds=(0, 2),
            loss_per_interval=curvature_loss_function(),
        ),
        finite=False,
        settings=learner1d_settings,
        skip=ONLY_FLOATS,
    ),
    LearnerCase(
        id="Learner1D-nan-uniform",
        make=lambda: Learner1D(
            lambda x: np.nan if 0.3 < x < 0.45 else np.exp(x),
            bounds=(0, 1),
            loss_per_interval=uniform_loss,
        ),
        finite=False,
        settings=learner1d_settings,
        skip=ONLY_FLOATS,
    ),
    LearnerCase(
        # python-adaptive's common pattern: rich results, the wrapped Learner1D learns one field
        id="DataSaver-Learner1D",
        make=lambda: DataSaver(Learner1D(rich_peak, bounds=(-1, 1)), itemgetter("y")),
        finite=False,
        settings=lambda learner: {
            "type": type(learner).__name__,
            "wrapped": learner1d_settings(learner.learner),
            "picked": learner.arg_picker(PICKER_SAMPLE),
        },
        function_defaults={"a": 0.1},
        poison=poison_dict,
    ),
]


from cases_average import AVERAGE_CASES  # noqa: E402
from cases_balancing import BALANCING_CASES  # noqa: E402
from cases_integrator import INTEGRATOR_CASES  # noqa: E402
from cases_learner2d import LEARNER2D_CASES  # noqa: E402
from cases_learnernd import LEARNERND_CASES  # noqa: E402

CASES += INTEGRATOR_CASES + AVERAGE_CASES + LEARNER2D_CASES + LEARNERND_CASES + BALANCING_CASES
