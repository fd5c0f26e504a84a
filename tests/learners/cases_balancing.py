"""Conformance cases of the balancing learner(s) (appended to ``learner_cases.CASES``)."""

from __future__ import annotations

from conformance import LearnerCase

__all__ = ["BALANCING_CASES"]

BALANCING_CASES: list[LearnerCase] = []
