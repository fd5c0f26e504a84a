"""Display: terminal status, notebook widgets and live plots.

It only reads runner and learner state.
"""

from adaptive_runner.display.terminal import live_info_terminal, status_line

__all__ = ["live_info_terminal", "status_line"]
