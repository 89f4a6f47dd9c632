"""Computing the partitions of a case on a Dask distributed cluster.

``--cluster local:N`` starts a ``LocalCluster`` of N worker processes (one thread each: the kernel is
already parallel inside a process); ``--cluster tcp://host:port`` connects to a running scheduler, whose
workers must see the work folder at the same path (shared storage).  Each task computes one partition
directory into ``results/part-NNNNN.parquet`` under a deterministic name, written atomically, so a task
retried after its worker died rewrites the same file and the merge takes exactly one file per partition.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from redress.engine.partition import PartitionOutcome, PartitionTask

# A task that raises is retried this many times; a task whose worker dies is rescheduled by the scheduler
# (up to distributed.scheduler.allowed-failures, 3 by default) without counting here.
TASK_RETRIES = 2


def parse_cluster(spec: str) -> tuple[str, int | str]:
    """``("local", n_workers)`` or ``("scheduler", address)``; ValueError for anything else."""
    m = re.fullmatch(r"local:(\d+)", spec.strip())
    if m:
        n = int(m.group(1))
        if n < 1:
            raise ValueError("--cluster local:N needs at least one worker")
        return "local", n
    if re.fullmatch(r"(tcp|tls|ucx|inproc)://\S+", spec.strip()):
        return "scheduler", spec.strip()
    raise ValueError(f"--cluster {spec!r}: use local:N (N worker processes here) or tcp://host:port (a scheduler)")


@dataclass
class DaskRunner:
    """Runs partition tasks on the workers of a Dask client and waits for all of them."""

    client: object

    @property
    def n_workers(self) -> int:
        return max(1, len(self.client.scheduler_info().get("workers", {})))

    def __call__(self, fn: Callable[[PartitionTask], PartitionOutcome],
                 tasks: list[PartitionTask]) -> list[PartitionOutcome]:
        run = uuid.uuid4().hex[:8]
        futures = self.client.map(fn, tasks, key=[f"redress-{run}-{t.name}" for t in tasks], pure=False,
                                  retries=TASK_RETRIES)
        return self.client.gather(futures)


@contextmanager
def dask_runner(spec: str) -> Iterator[DaskRunner]:
    """A runner on a local cluster started here, or on an existing scheduler; closed on exit."""
    from distributed import Client, LocalCluster

    kind, value = parse_cluster(spec)
    if kind == "local":
        cluster = LocalCluster(n_workers=int(value), threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=50)
        client = Client(cluster)
        try:
            yield DaskRunner(client)
        finally:
            client.close()
            cluster.close()
    else:
        client = Client(str(value), timeout="30s")
        try:
            yield DaskRunner(client)
        finally:
            client.close()
