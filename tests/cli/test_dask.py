"""`adaptive-runner run --executor dask://HOST:PORT` against a real dask scheduler with two
worker processes, started by the test: the run's evaluations happen in those workers."""

from __future__ import annotations

import os

import pytest
from cli_helpers import cli, data_rows, job, json_summary

distributed = pytest.importorskip("distributed")


def test_a_run_on_a_dask_cluster(tmp_path):
    points = tmp_path / "points.json"
    points.write_text("[1, 2, 3, 4, 5, 6, 7, 8]")
    output = tmp_path / "out.json"
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        client.wait_for_workers(2, timeout=60)
        worker_pids = set(client.run(os.getpid).values())
        address = cluster.scheduler_address.removeprefix("tcp://")
        result = cli(
            "run", job("pid_of_worker"), "--learner", "sequence", "--points", points,
            "--executor", f"dask://{address}", "--output", output, "--json",
            timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        summary = json_summary(result)
        assert summary["status"] == "finished"
        assert summary["npoints"] == 8
        columns, rows = data_rows(output)
        assert columns == ["index", "point", "value"]
        assert [row[1] for row in rows] == [1, 2, 3, 4, 5, 6, 7, 8]
        # evaluated in the cluster's worker processes, not in the command's own process
        assert {row[2] for row in rows} <= worker_pids
        # the cluster is fine afterwards
        assert client.submit(sum, [1, 2]).result(timeout=30) == 3
