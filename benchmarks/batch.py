"""Benchmark ``carbonlab.batch`` on a 2-worker LocalCluster (processes, 1 thread each).

Prints: the time to expand and run a grid of N cheap function tasks
(``carbonlab.leap.logistic``) one task per Dask task and in chunks, i.e. the per-task
overhead of the cluster; and the time of M notebook tasks (``00_overview`` for M provinces)
on 1 and on 2 workers, i.e. the speed-up of the scale-out on this machine.

    .venv/bin/python benchmarks/batch.py [--tasks 2000] [--chunk 50] [--notebooks 4]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pandas as pd  # noqa: E402

from carbonlab import batch  # noqa: E402
from carbonlab.regions import PROVINCES  # noqa: E402


def _cluster(n_workers: int):
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.ERROR,
                           scheduler_kwargs={"dashboard_address": ":0"})
    return Client(cluster), cluster


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=2000)
    ap.add_argument("--chunk", type=int, default=50)
    ap.add_argument("--notebooks", type=int, default=4)
    a = ap.parse_args()

    n_r = max(1, a.tasks // 40)
    spec = {"tasks": [{"kind": "function", "function": "carbonlab.leap.logistic",
                       "params": {"K": 1.0, "t0": 2025},
                       "grid": {"r": [0.05 * (i + 1) for i in range(n_r)],
                                "t": {"range": [2000, 2040]}}}]}
    t0 = time.perf_counter()
    tasks = batch.expand_grid(spec)
    t_expand = time.perf_counter() - t0
    client, cluster = _cluster(2)
    try:
        batch.run_batch(tasks.head(20), scheduler=client, retries=0)  # warm the workers
        t0 = time.perf_counter()
        one = batch.run_batch(tasks, scheduler=client, retries=0)
        t_one = time.perf_counter() - t0
        t0 = time.perf_counter()
        chunked = batch.run_batch(tasks, scheduler=client, retries=0, chunk_size=a.chunk)
        t_chunk = time.perf_counter() - t0
    finally:
        client.close()
        cluster.close()
    pd.testing.assert_frame_equal(one.drop(columns="elapsed_s"), chunked.drop(columns="elapsed_s"))
    n = len(tasks)
    print(f"function tasks: {n}; expand_grid {t_expand:.2f} s")
    print(f"  chunk_size=1        {t_one:6.2f} s  ({1000 * t_one / n:.2f} ms/task)")
    print(f"  chunk_size={a.chunk:<8d} {t_chunk:6.2f} s  ({1000 * t_chunk / n:.2f} ms/task), "
          "identical table")

    regions = list(PROVINCES[: a.notebooks])
    with tempfile.TemporaryDirectory() as tmp:
        nb_spec = {"output_dir": tmp, "tasks": [
            {"kind": "notebook", "notebook": "00_overview", "params": {"dataset": "teaching"},
             "grid": {"region": regions}}]}
        times = {}
        for w in (1, 2):
            client, cluster = _cluster(w)
            try:
                t0 = time.perf_counter()
                res = batch.run_batch(nb_spec, scheduler=client, retries=0)
                times[w] = time.perf_counter() - t0
            finally:
                client.close()
                cluster.close()
            if not (res["status"] == "ok").all():
                raise SystemExit(f"notebook tasks failed: {res['error'].dropna().unique()}")
    print(f"notebook tasks (00_overview x {len(regions)} provinces):")
    for w, t in times.items():
        print(f"  {w} worker(s)         {t:6.2f} s  ({t / len(regions):.2f} s/notebook)")
    print(f"  speed-up 2 vs 1 worker: {times[1] / times[2]:.2f}x")


if __name__ == "__main__":
    main()
