"""Build configuration beyond pyproject.toml: the optional C accelerator of the Learner2D.

``optional=True``: where no C compiler is available the build skips it with a warning and
adaptive_runner uses the same computation in Python (learners/learner2D.py).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "adaptive_runner.learners._speedups",
            sources=["adaptive_runner/learners/_speedups.c"],
            # the same floating-point results as the Python code: no fused multiply-add
            extra_compile_args=["-O2", "-ffp-contract=off", "-fno-fast-math"],
            optional=True,
        )
    ]
)
