"""A self-contained adaptive sampling job: ``python -m adaptive_runner.demo``.

It scans the resonance of a driven, damped oscillator over a grid of (frequency, damping)
settings. Each evaluation integrates the equation of motion with SciPy (a few milliseconds of
real work), the runner spreads evaluations over the default process pool (loky), a status line
shows progress, and the learner is saved periodically and at the end. Load the result with::

    import adaptive_runner
    learner = adaptive_runner.SequenceLearner(demo.steady_state_amplitude, demo.settings())
    learner.load("demo_output/learner.pickle")
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.integrate import solve_ivp

from adaptive_runner import AsyncRunner, SequenceLearner, utils


def steady_state_amplitude(setting: dict) -> float:
    """Amplitude of x'' + 2ζx' + x = cos(ωt) after the transient has died out."""
    omega, zeta = setting["omega"], setting["zeta"]

    def rhs(t: float, state: np.ndarray) -> list[float]:
        x, v = state
        return [v, np.cos(omega * t) - 2 * zeta * v - x]

    t_end = 40.0 / max(zeta, 0.05)
    solution = solve_ivp(rhs, (0.0, t_end), [0.0, 0.0], rtol=1e-6, atol=1e-9, dense_output=True)
    tail = np.linspace(0.8 * t_end, t_end, 400)
    return float(np.ptp(solution.sol(tail)[0]) / 2)


def settings(n_omega: int = 24, n_zeta: int = 5) -> list[dict]:
    """The grid of oscillator settings the demo evaluates."""
    return utils.named_product(
        omega=[round(float(w), 4) for w in np.linspace(0.5, 1.5, n_omega)],
        zeta=[round(float(z), 4) for z in np.geomspace(0.05, 0.5, n_zeta)],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m adaptive_runner.demo", description=__doc__)
    parser.add_argument("--n-omega", type=int, default=24, help="frequencies in the grid")
    parser.add_argument("--output", default="demo_output", help="folder for the saved learner")
    parser.add_argument("--ntasks", type=int, default=None, help="parallel evaluations")
    args = parser.parse_args(argv)

    learner = SequenceLearner(steady_state_amplitude, settings(args.n_omega))
    runner = AsyncRunner(learner, ntasks=args.ntasks)  # the learner's done() is the goal
    fname = Path(args.output) / "learner.pickle"
    runner.start_periodic_saving(save_kwargs={"fname": fname}, interval=5)
    runner.live_info_terminal(update_interval=0.5)
    runner.block_until_done()

    amplitudes = learner.result()
    best = int(np.argmax(amplitudes))
    print(
        f"evaluated {learner.npoints} settings in {runner.elapsed_time():.1f} s "
        f"(overhead {runner.overhead():.0f}%); largest amplitude {amplitudes[best]:.3f} at "
        f"{learner.sequence[best]}; learner saved to {fname}"
    )
    check = SequenceLearner(steady_state_amplitude, settings(args.n_omega))
    check.load(fname)
    if check.npoints != learner.npoints:  # the saved file must hold the whole run
        print(f"error: {fname} holds {check.npoints} points", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
