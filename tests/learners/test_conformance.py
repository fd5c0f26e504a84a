"""Every learner case of ``learner_cases.CASES`` passes every conformance check.

One test per check, parametrized over the cases; a case opts out of a check that does not apply
to it through ``LearnerCase.skip`` (keyed by the check function's name, with the reason). An
opted-out pair is not generated at all, so the suite never carries skipped tests.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import cloudpickle
import conformance
import pytest
from conformance import LearnerCase
from hypothesis import given, settings
from hypothesis import strategies as st
from learner_cases import CASES


def cases_for(check_name: str):
    """Parametrize over the cases that take part in ``check_name``."""
    cases = [case for case in CASES if check_name not in case.skip]
    return pytest.mark.parametrize("case", cases, ids=[case.id for case in cases])


def run_check(check: Callable[..., None], case: LearnerCase, *args: Any) -> None:
    check(case, *args)


def test_case_ids_are_unique():
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))


def test_case_skips_name_real_checks():
    checks = {name for name in dir(conformance) if name.startswith("check_")}
    for case in CASES:
        assert set(case.skip) <= checks, f"{case.id} skips unknown checks"


@cases_for("check_ask_tell_round_trip")
@pytest.mark.parametrize("batch", [1, 3])
def test_ask_tell_round_trip(case, batch):
    run_check(conformance.check_ask_tell_round_trip, case, batch)


@cases_for("check_ask_returns_distinct_new_points")
def test_ask_returns_distinct_new_points(case):
    run_check(conformance.check_ask_returns_distinct_new_points, case)


@cases_for("check_ask_zero_and_negative")
def test_ask_zero_and_negative(case):
    run_check(conformance.check_ask_zero_and_negative, case)


@cases_for("check_ask_without_tell_pending")
def test_ask_without_tell_pending(case):
    run_check(conformance.check_ask_without_tell_pending, case)


@cases_for("check_tell_pending_then_tell")
def test_tell_pending_then_tell(case):
    run_check(conformance.check_tell_pending_then_tell, case)


@cases_for("check_tell_order_independence")
@settings(max_examples=15, derandomize=True, deadline=None)
@given(data=st.data())
def test_tell_order_independence(case, data):
    pairs = conformance.collect_pairs(case)
    n_told = data.draw(st.integers(0, len(pairs)), label="n_told")
    order = data.draw(st.permutations(range(n_told)), label="order")
    run_check(conformance.check_tell_order_independence, case, pairs[:n_told], order)


@cases_for("check_remove_unfinished")
def test_remove_unfinished(case):
    run_check(conformance.check_remove_unfinished, case)


@cases_for("check_pickle_round_trip")
@pytest.mark.parametrize("module", [pickle, cloudpickle], ids=["pickle", "cloudpickle"])
def test_pickle_round_trip(case, module):
    run_check(conformance.check_pickle_round_trip, case, module)


@cases_for("check_save_load_round_trip")
@pytest.mark.parametrize("compress", [True, False], ids=["compressed", "uncompressed"])
def test_save_load_round_trip(case, tmp_path, compress):
    run_check(conformance.check_save_load_round_trip, case, tmp_path, compress)


@cases_for("check_save_is_atomic")
def test_save_is_atomic(case, tmp_path):
    run_check(conformance.check_save_is_atomic, case, tmp_path)


@cases_for("check_dataframe_round_trip")
def test_dataframe_round_trip(case):
    run_check(conformance.check_dataframe_round_trip, case)


@cases_for("check_dataframe_function_defaults")
def test_dataframe_function_defaults(case):
    run_check(conformance.check_dataframe_function_defaults, case)


@cases_for("check_new_is_empty_and_equivalent")
def test_new_is_empty_and_equivalent(case):
    run_check(conformance.check_new_is_empty_and_equivalent, case)


@cases_for("check_tell_many_equals_tell_loop")
def test_tell_many_equals_tell_loop(case):
    run_check(conformance.check_tell_many_equals_tell_loop, case)


@cases_for("check_copy_from")
def test_copy_from(case):
    run_check(conformance.check_copy_from, case)


@cases_for("check_deterministic")
def test_deterministic(case):
    run_check(conformance.check_deterministic, case)
