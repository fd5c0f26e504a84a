"""What a run did, as a dict (for ``--json`` and logs) and as a few lines of text for a person.

Read-only: a summary never changes the runner or the learner, and a learner whose ``loss()``
raises still gets a summary (with the loss left out).
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["format_seconds", "format_summary", "run_summary"]


def _loss(learner: Any) -> float | None:
    try:
        loss = float(learner.loss())
    except Exception:  # a summary must never raise on the way out of a run
        return None
    return loss


def run_summary(runner: Any, status: str | None = None) -> dict[str, Any]:
    """The state of ``runner`` as JSON-ready plain data.

    Parameters
    ----------
    runner
        An :class:`AsyncRunner` or :class:`BlockingRunner`, running or ended.
    status
        Overrides the runner's own status, e.g. ``"interrupted"`` after Ctrl-C (the runner
        itself says ``"cancelled"``).

    Returns
    -------
    dict
        ``status``, ``learner``, ``npoints``, ``loss`` (None if unavailable), ``elapsed``
        (seconds), ``overhead`` (percent), ``failed`` (points that used up their retries),
        ``retrying`` (points waiting for another attempt), ``cancelled`` (evaluations in flight
        when the run stopped), ``error`` (``"Type: message"`` or None), ``checkpoint`` (file
        and committed evaluations, or None) and ``saved`` (the file of periodic saving, or
        None).
    """
    if status is None:
        status = runner.outcome or "running"
    loss = _loss(runner.learner)
    error = runner.error
    run_log = getattr(runner, "_run_log", None)
    checkpoint = None
    if run_log is not None:
        checkpoint = {"file": str(run_log.path), "evaluations": run_log.committed}
    return {
        "status": status,
        "learner": type(runner.learner).__name__,
        "npoints": int(runner.learner.npoints),
        "loss": loss if loss is None or math.isfinite(loss) else str(loss),
        "elapsed": round(runner.elapsed_time(), 3),
        "overhead": round(runner.overhead(), 1),
        "failed": len(runner.failed),
        "retrying": len(runner.to_retry),
        "cancelled": getattr(runner, "n_cancelled", 0),
        "error": None if error is None else f"{type(error).__name__}: {error}",
        "checkpoint": checkpoint,
        "saved": getattr(runner, "saved_to", None),
    }


def format_seconds(seconds: float) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour on (negative times show as 0:00)."""
    minutes, rest = divmod(max(0, round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{rest:02d}" if hours else f"{minutes}:{rest:02d}"


def format_summary(summary: dict[str, Any]) -> str:
    """A :func:`run_summary` as a few lines for a terminal or a job log."""
    loss = summary["loss"]
    loss_text = "unavailable" if loss is None else loss if isinstance(loss, str) else f"{loss:.4g}"
    lines = [
        f"adaptive_runner: run {summary['status']} after {format_seconds(summary['elapsed'])} "
        f"({summary['learner']})",
        f"  points: {summary['npoints']} | loss: {loss_text} | failed: {summary['failed']} | "
        f"retrying: {summary['retrying']} | evaluations cancelled: {summary['cancelled']}",
    ]
    if summary["error"]:
        lines.append(f"  error: {summary['error']}")
    if summary["checkpoint"]:
        checkpoint = summary["checkpoint"]
        lines.append(
            f"  checkpoint: {checkpoint['file']} ({checkpoint['evaluations']} evaluations "
            "committed; a new run given this checkpoint resumes from it)"
        )
    if summary["saved"]:
        lines.append(f"  saved: {summary['saved']}")
    return "\n".join(lines)
