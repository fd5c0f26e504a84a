"""Conformance cases of the learner2d learner(s) (appended to ``learner_cases.CASES``)."""

from __future__ import annotations

from conformance import LearnerCase

__all__ = ["LEARNER2D_CASES"]

LEARNER2D_CASES: list[LearnerCase] = []
