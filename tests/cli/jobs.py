"""Functions for the command-line tests: `adaptive-runner run tests/cli/jobs.py:NAME`.

Each is cheap, so a run is dominated by starting Python; the `slow_` ones sleep a little so a
run lasts long enough to be interrupted or killed mid-way.
"""

import math
import os
import random
import time

NOT_A_FUNCTION = 42


def peak(x):
    return x + 0.01**2 / (0.01**2 + x**2)


def slow_peak(x):
    time.sleep(0.01)
    return peak(x)


def shifted_peak(x):
    """The peak moved by the SLURM array task id (the README's job script does this)."""
    shift = float(os.environ["SLURM_ARRAY_TASK_ID"])
    return peak(x - shift)


def ring(xy):
    x, y = xy
    return math.exp(-((x**2 + y**2 - 0.5) ** 2) / 0.01)


def sphere(point):
    return sum(coordinate**2 for coordinate in point)


def noise(seed):
    return random.Random(seed).gauss(1.0, 0.1)


def noisy_line(seed_x):
    seed, x = seed_x
    return x + random.Random(seed).gauss(0.0, 0.01)


def cube(x):
    return x**3


def area(setting):
    return setting["width"] * setting["height"]


def fails_on_the_right(x):
    if x > 0.5:
        raise RuntimeError(f"cannot evaluate at x={x}")
    return x


def pid_of_worker(x):
    """The process that evaluated ``x`` (for the dask test: a worker, not the command)."""
    return os.getpid()
