"""Display: terminal status, notebook widgets and live plots.

It only reads runner and learner state.
"""

from adaptive_runner.display.notebook import (
    active_plotting_tasks,
    live_info,
    live_plot,
    notebook_extension,
)
from adaptive_runner.display.terminal import live_info_terminal, status_line

__all__ = [
    "active_plotting_tasks",
    "live_info",
    "live_info_terminal",
    "live_plot",
    "notebook_extension",
    "status_line",
]
