"""A batch job for the Ctrl-C tests: runs until interrupted (see test_interrupt.py).

usage: python interrupt_job.py RUNNER EXECUTOR CHECKPOINT SAVE CATCH
  RUNNER    async (AsyncRunner + block_until_done) or blocking (BlockingRunner)
  EXECUTOR  loky or sequential
  CHECKPOINT, SAVE  file names ("-" for none); SAVE needs RUNNER=async
  CATCH     catch (the script catches KeyboardInterrupt and exits 0) or raise
"""

import sys
import time

import adaptive_runner as adaptive


def slow_peak(x):
    time.sleep(0.01)
    return x + 0.01 / (0.01 + x**2)


def main() -> None:
    runner_kind, executor_kind, checkpoint, save, catch = sys.argv[1:6]
    learner = adaptive.Learner1D(slow_peak, (-1, 1))
    executor = adaptive.SequentialExecutor() if executor_kind == "sequential" else None
    options = {
        "executor": executor,
        "npoints_goal": 10**6,
        "checkpoint": None if checkpoint == "-" else checkpoint,
        "checkpoint_interval": 0.05,
    }
    try:
        if runner_kind == "blocking":
            adaptive.BlockingRunner(learner, **options)
        else:
            runner = adaptive.Runner(learner, **options)
            if save != "-":
                runner.start_periodic_saving({"fname": save}, interval=3600)
            runner.block_until_done()
    except KeyboardInterrupt as e:
        if catch != "catch":
            raise
        print(f"caught {type(e).__name__} npoints={learner.npoints}", flush=True)


if __name__ == "__main__":
    main()
