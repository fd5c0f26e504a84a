"""The optional C versions of the hot paths of the Learner2D and LearnerND (``_speedups_src/``).

``compiled`` is the compiled module, or None when it was not built (no C compiler when the
package was installed) or when the environment variable ``ADAPTIVE_RUNNER_PURE_PYTHON`` is set
to a non-empty value. The triangulation looks it up at each use and the Learner2D when it
makes a mesh (at construction and when it rebuilds one), so setting ``compiled = None``
switches to the Python code, which computes bitwise the same results.
"""

from __future__ import annotations

import os
from types import ModuleType

__all__ = ["compiled"]

compiled: ModuleType | None = None
if not os.environ.get("ADAPTIVE_RUNNER_PURE_PYTHON"):
    try:
        from adaptive_runner.learners import _speedups as compiled
    except ImportError:  # not built: the Python code does the same
        compiled = None
