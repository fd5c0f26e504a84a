"""What the notebook tests share: the notebooks, and a ``python3`` kernel that is this Python.

A machine may have a ``python3`` kernelspec of another interpreter (a user-level install, a
system Jupyter). The tests write their own kernelspec, running ``sys.executable``, into a
temporary directory and point Jupyter at it, so the notebooks always run against the package
and dependencies of the environment running pytest.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"

#: the name notebooks ask for in their metadata, and the one our kernelspec takes over
KERNEL_NAME = "python3"

#: the words the live_info panel's status element shows when a run has ended
FINAL_STATUSES = ("finished", "failed", "cancelled")


def notebook_paths() -> list[Path]:
    """Every notebook in ``notebooks/``, so a new one is tested without editing the tests."""
    return sorted(NOTEBOOK_DIR.glob("*.ipynb"))


def write_kernelspec(data_dir: Path) -> Path:
    """Write a ``python3`` kernelspec running ``sys.executable`` under ``data_dir/kernels``.

    ``data_dir`` is meant to be put first on ``JUPYTER_PATH``. Returns the ``kernels`` folder.
    """
    kernel_dir = data_dir / "kernels" / KERNEL_NAME
    kernel_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "metadata": {"debugger": False},
    }
    (kernel_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
    return data_dir / "kernels"


def strip_tags(html_text: str) -> str:
    """The text of a small HTML snippet (a status widget's value)."""
    return re.sub(r"<[^>]*>", "", html_text).strip()


def cell_text(cell: Any) -> str:
    """What a code cell printed and returned, as plain text (streams, then text/plain)."""
    parts = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream":
            parts.append(output["text"])
        elif "data" in output:
            parts.append(output["data"].get("text/plain", ""))
    return "".join(parts)
