"""The table of a learner's data: the columns that ``--output`` writes (see
:mod:`adaptive_runner.cli.outputs` for the columns of each learner)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["learner_table", "unwrap"]


def unwrap(learner: Any) -> Any:
    while type(learner).__name__ == "DataSaver":
        learner = learner.learner
    return learner


def learner_table(learner: Any) -> tuple[str, dict[str, np.ndarray]]:
    """``(learner class name, {column name: array})`` of the learner's data, as written by
    :func:`write_data` (the columns are described in this module's docstring).

    Arrays are float64 or int64 (numbers), unicode (strings) or object (any other value).
    """
    return type(learner).__name__, _table_with_keys(learner)[1]


def _table_with_keys(learner: Any) -> tuple[list, dict[str, np.ndarray]]:
    """The row keys (the learner's ``data`` keys, where a row is one) and the columns."""
    kind = type(learner).__name__
    builders: dict[str, Callable[[Any], tuple[list, dict[str, np.ndarray]]]] = {
        "Learner1D": lambda lrn: _numeric_table(lrn, ["x"], "y"),
        "IntegratorLearner": lambda lrn: _numeric_table(lrn, ["x"], "y"),
        "Learner2D": lambda lrn: _numeric_table(lrn, ["x", "y"], "z"),
        "LearnerND": lambda lrn: _numeric_table(lrn, [f"x{i}" for i in range(lrn.ndim)], "value"),
        "AverageLearner": _average_table,
        "AverageLearner1D": _average1d_table,
        "SequenceLearner": _sequence_table,
        "DataSaver": _data_saver_table,
        "BalancingLearner": _balancing_table,
    }
    if kind not in builders:
        raise TypeError(f"write_data: no table for a {kind}; known: {', '.join(builders)}")
    return builders[kind](learner)


def _numeric_table(learner: Any, coordinates: list[str], value: str):
    """Columns from the learner's own ``to_numpy`` (rows ``(*coordinates, *value)``)."""
    table = np.asarray(learner.to_numpy(), dtype=float)
    ncoordinates = len(coordinates)
    if table.ndim != 2 or table.shape[1] <= ncoordinates:  # e.g. empty: no value columns seen
        table = table.reshape(len(table), -1) if table.size else table.reshape(0, ncoordinates + 1)
    nvalues = table.shape[1] - ncoordinates
    names = [*coordinates, *([value] if nvalues == 1 else [f"{value}_{k}" for k in range(nvalues)])]
    columns = {name: table[:, k].copy() for k, name in enumerate(names)}
    if ncoordinates == 1:
        keys = table[:, 0].tolist()
    else:
        keys = [tuple(row) for row in table[:, :ncoordinates].tolist()]
    return keys, columns


def _average_table(learner: Any):
    table = np.asarray(learner.to_numpy(), dtype=float).reshape(-1, 2)
    seeds = table[:, 0].astype(np.int64)
    return seeds.tolist(), {"seed": seeds, "y": table[:, 1].copy()}


def _average1d_table(learner: Any):
    means = np.asarray(learner.to_numpy(mean=True), dtype=float).reshape(-1, 2)
    xs = means[:, 0].tolist()
    samples = learner.samples
    counts = np.array([len(samples[x]) for x in xs], dtype=np.int64)
    stds = np.array([_sample_std(list(samples[x].values())) for x in xs], dtype=float)
    columns = {"x": means[:, 0].copy(), "y": means[:, 1].copy(), "nsamples": counts, "std": stds}
    return xs, columns


def _sample_std(values: list[float]) -> float:
    if len(values) < 2:
        return math.nan
    return float(np.std(np.asarray(values, dtype=float), ddof=1))


def _sequence_table(learner: Any):
    indices = sorted(learner.data)
    columns = {"index": np.array(indices, dtype=np.int64)}
    columns |= _value_columns("point", [learner.sequence[i] for i in indices])
    columns |= _value_columns("value", [learner.data[i] for i in indices])
    return indices, columns


def _data_saver_table(learner: Any):
    keys, columns = _table_with_keys(learner.learner)
    if type(learner.learner).__name__ == "AverageLearner1D":
        # its rows are x values and its extra data is per sample: no extra data column
        return keys, columns
    extra = learner.extra_data
    return keys, columns | _value_columns("extra_data", [extra.get(k) for k in keys])


def _balancing_table(learner: Any):
    tables = [_table_with_keys(child) for child in learner.learners]
    used = [(i, t) for i, t in enumerate(tables) if len(t[0])] or list(enumerate(tables[:1]))
    names = ["learner_index"]
    for _, (_, columns) in used:
        names += [name for name in columns if name not in names]
    merged: dict[str, np.ndarray] = {}
    for name in names:
        parts = []
        for i, (keys, columns) in used:
            if name == "learner_index":
                parts.append(np.full(len(keys), i, dtype=np.int64))
            elif name in columns:
                parts.append(columns[name])
            else:  # a child whose values have another shape: missing here
                parts.append(np.full(len(keys), math.nan))
        merged[name] = _concatenate(parts)
    keys = [(i, key) for i, (child_keys, _) in used for key in child_keys]
    return keys, merged


def _concatenate(parts: list[np.ndarray]) -> np.ndarray:
    kinds = {part.dtype.kind for part in parts if len(part)} or {parts[0].dtype.kind}
    if kinds <= {"f", "i"}:
        return np.concatenate(parts).astype(float if "f" in kinds else np.int64)
    if kinds == {"U"}:
        return np.concatenate(parts)
    return np.concatenate([part.astype(object) for part in parts])


def _value_columns(name: str, values: list) -> dict[str, np.ndarray]:
    """One column of ``values``, or one per component when they are equal-length vectors."""
    if not values:
        return {name: np.empty(0, dtype=float)}
    if all(_is_int(v) for v in values) and all(-(2**63) <= int(v) < 2**63 for v in values):
        return {name: np.array([int(v) for v in values], dtype=np.int64)}
    if all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values):
        return {name: np.array([float(v) for v in values], dtype=float)}
    if all(isinstance(v, str) for v in values):
        return {name: np.array(values, dtype=str)}
    vectors = _as_vectors(values)
    if vectors is not None:
        return {f"{name}_{k}": vectors[:, k].copy() for k in range(vectors.shape[1])}
    column = np.empty(len(values), dtype=object)
    column[:] = values
    return {name: column}


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _as_vectors(values: list) -> np.ndarray | None:
    """``values`` as rows of a float array when each is a flat, non-empty sequence of real
    numbers, all of one length; else None."""
    rows = []
    for value in values:
        if isinstance(value, str | bytes | dict):
            return None
        try:
            row = np.asarray(value)
        except (ValueError, TypeError):  # e.g. ragged nested lists
            return None
        if row.ndim != 1 or row.size == 0 or row.dtype.kind not in "biuf":
            return None
        rows.append(row.astype(float))
    if len({len(row) for row in rows}) != 1:
        return None
    return np.array(rows, dtype=float)
