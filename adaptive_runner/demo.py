"""A self-contained adaptive sampling job: ``adaptive-runner demo`` (or
``python -m adaptive_runner.demo``).

It scans the resonance of a driven, damped oscillator in two stages. First a grid of
(frequency, damping) settings (a SequenceLearner); then, at the smallest damping, where the
resonance is sharpest, a Learner1D samples the amplitude as a function of the frequency until
its loss is below ``--loss-goal``: points gather on the peak instead of being spread on a grid.
Each evaluation integrates the equation of motion with SciPy (a few milliseconds of real work),
the runner spreads evaluations over the default process pool (loky), a status line shows
progress, and both learners are saved periodically and at the end. The resonance curve is also
written as a table (``resonance.csv``) and a picture (``resonance.png``, when holoviews and
matplotlib are installed: ``pip install 'adaptive-runner[cli]'``). Load the results with::

    from adaptive_runner import Learner1D, SequenceLearner, demo
    grid = SequenceLearner(demo.steady_state_amplitude, demo.settings())
    grid.load("demo_output/learner.pickle")
    curve = Learner1D(demo.resonance_curve, bounds=demo.OMEGA_RANGE)
    curve.load("demo_output/resonance.pickle")
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.integrate import solve_ivp

from adaptive_runner import AsyncRunner, Learner1D, SequenceLearner, utils

OMEGA_RANGE = (0.5, 1.5)


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


def resonance_curve(omega: float, zeta: float = 0.05) -> float:
    """The steady-state amplitude as a function of the driving frequency alone."""
    return steady_state_amplitude({"omega": omega, "zeta": zeta})


def settings(n_omega: int = 24, n_zeta: int = 5) -> list[dict]:
    """The grid of oscillator settings the demo evaluates."""
    return utils.named_product(
        omega=[round(float(w), 4) for w in np.linspace(*OMEGA_RANGE, n_omega)],
        zeta=[round(float(z), 4) for z in np.geomspace(0.05, 0.5, n_zeta)],
    )


def main(argv: list[str] | None = None, prog: str = "python -m adaptive_runner.demo") -> int:
    """Run the demo with command-line arguments ``argv``; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n-omega", type=int, default=24, help="frequencies in the grid")
    parser.add_argument("--output", default="demo_output", help="folder for the saved learner")
    parser.add_argument("--ntasks", type=int, default=None, help="parallel evaluations")
    parser.add_argument(
        "--loss-goal", type=float, default=0.02, help="Learner1D stage: stop below this loss"
    )
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
    return scan_resonance(args)


def scan_resonance(args: argparse.Namespace) -> int:
    """Stage 2: the sharpest resonance curve, sampled adaptively to a loss goal."""
    curve = Learner1D(resonance_curve, bounds=OMEGA_RANGE)
    runner = AsyncRunner(curve, loss_goal=args.loss_goal, ntasks=args.ntasks)
    fname = Path(args.output) / "resonance.pickle"
    runner.start_periodic_saving(save_kwargs={"fname": fname}, interval=5)
    runner.live_info_terminal(update_interval=0.5)
    runner.block_until_done()
    table = curve.to_numpy()
    omega, amplitude = table[np.argmax(table[:, 1])]
    near_peak = np.count_nonzero(np.abs(table[:, 0] - omega) < 0.05)
    print(
        f"resonance curve: {curve.npoints} points to loss {curve.loss():.4f} in "
        f"{runner.elapsed_time():.1f} s; peak amplitude {amplitude:.3f} at omega={omega:.4f}; "
        f"{near_peak} points within 0.05 of the peak (a tenth of the range); saved to {fname}"
    )
    check = Learner1D(resonance_curve, bounds=OMEGA_RANGE)
    check.load(fname)
    if check.npoints != curve.npoints:
        print(f"error: {fname} holds {check.npoints} points", file=sys.stderr)
        return 1
    return write_results(curve, Path(args.output))


def write_results(curve: Learner1D, folder: Path) -> int:
    """The resonance curve as a table and, when the plotting packages are there, a picture."""
    from adaptive_runner.cli.errors import UsageError
    from adaptive_runner.cli.outputs import check_data_path, check_plot_path, write_data, write_plot

    table = check_data_path(str(folder / "resonance.csv"))
    write_data(curve, table)
    print(f"table: {table} (columns x = omega, y = amplitude)")
    try:
        picture = check_plot_path(str(folder / "resonance.png"), curve)
    except UsageError as e:  # holoviews or matplotlib missing: the data is what matters
        print(f"picture skipped: {e}")
        return 0
    write_plot(curve, picture)
    print(f"picture: {picture}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
