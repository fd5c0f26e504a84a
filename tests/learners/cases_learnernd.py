"""Conformance cases of the learnernd learner(s) (appended to ``learner_cases.CASES``)."""

from __future__ import annotations

from conformance import LearnerCase

__all__ = ["LEARNERND_CASES"]

LEARNERND_CASES: list[LearnerCase] = []
