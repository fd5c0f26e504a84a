"""Build configuration beyond pyproject.toml: the optional C speedups of the Learner2D and the
LearnerND (sources in ``adaptive_runner/learners/_speedups_src/``).

``optional=True``: where no C compiler is available the build skips them with a warning and
adaptive_runner uses the same computations in Python (see learners/speedups.py).
"""

from pathlib import Path

from setuptools import Extension, setup

SOURCES = Path("adaptive_runner/learners/_speedups_src")

setup(
    ext_modules=[
        Extension(
            "adaptive_runner.learners._speedups",
            sources=sorted(str(path) for path in SOURCES.glob("*.c")),
            depends=[str(SOURCES / "speedups.h")],
            include_dirs=[str(SOURCES)],
            # the same floating-point results as the Python code: no fused multiply-add
            extra_compile_args=["-O2", "-ffp-contract=off", "-fno-fast-math"],
            optional=True,
        )
    ]
)
