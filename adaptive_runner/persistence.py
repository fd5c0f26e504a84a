"""Atomic saving and loading of Python objects (cloudpickle, optionally gzip-compressed).

A save never leaves a half-written file behind: the data goes to a temporary file in the
destination folder, is flushed to disk, and only then replaces the destination in one
``os.replace`` call. A crash mid-save leaves the previous file intact.
"""

from __future__ import annotations

import gzip
import os
import uuid
from pathlib import Path
from typing import Any

import cloudpickle

__all__ = ["load", "save"]


def save(fname: str | os.PathLike, data: Any, compress: bool = True) -> None:
    """Pickle ``data`` (with cloudpickle) to ``fname`` atomically.

    Parameters
    ----------
    fname
        Destination path; missing parent folders are created.
    data
        Any object cloudpickle can serialize.
    compress
        Write gzip-compressed data (read it back with ``load(..., compress=True)``).
    """
    path = Path(fname)
    if path.is_dir():
        raise IsADirectoryError(f"fname={str(fname)!r} is a directory, expected a file path")
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = cloudpickle.dumps(data, protocol=4)
    if compress:
        blob = gzip.compress(blob, compresslevel=6, mtime=0)
    # os.open with mode 0o666 lets the umask decide the permissions, as for any new file
    # (tempfile.mkstemp would make every saved file owner-only)
    tmp_name = path.parent / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp"
    fd = os.open(tmp_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        # never leave the temporary file behind, whatever went wrong
        Path(tmp_name).unlink(missing_ok=True)
        raise


def load(fname: str | os.PathLike, compress: bool = True) -> Any:
    """Load an object written by :func:`save`.

    Parameters
    ----------
    fname
        Path of the file.
    compress
        Whether the file was written with ``compress=True``.
    """
    opener = gzip.open if compress else open
    try:
        with opener(fname, "rb") as f:
            return cloudpickle.load(f)
    except gzip.BadGzipFile as e:
        raise ValueError(
            f"{str(fname)!r} is not gzip-compressed; was it saved with compress=False? "
            "Load it with compress=False."
        ) from e
