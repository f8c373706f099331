"""Dask executors for collect(): an existing scheduler (`tcp://HOST:PORT`) or a LocalCluster on 127.0.0.1.

>>> from qec.cluster import parse_local_cluster
>>> parse_local_cluster("local:4")
4
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from qec.errors import QecInputError

CONNECT_TIMEOUT_SECONDS = 10


def parse_local_cluster(spec: str) -> int:
    """`local:N` -> N (worker processes, one thread each)."""
    kind, _, count = spec.partition(":")
    if kind != "local" or not count.isdigit() or int(count) < 1:
        raise QecInputError(f"malformed cluster {spec!r}: use local:N with N >= 1 workers, e.g. local:2")
    return int(count)


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise QecInputError("running on Dask needs dask.distributed: pip install 'qec[dask]'") from None
    return distributed


@contextmanager
def dask_client(*, scheduler: str | None = None, cluster: str | None = None) -> Iterator[Any | None]:
    """Yields a connected `distributed.Client` (or None when neither option is given, for the local pool).

    `scheduler` is an address such as tcp://10.0.0.5:8786 or tls://... (TLS settings come from Dask's
    config); `cluster` is `local:N`, a LocalCluster of N single-threaded worker processes bound to 127.0.0.1.
    """
    if scheduler and cluster:
        raise QecInputError("give --scheduler or --cluster, not both")
    if not scheduler and not cluster:
        yield None
        return
    distributed = _distributed()
    if cluster:
        workers = parse_local_cluster(cluster)
        with _local_cluster(distributed, workers) as local, distributed.Client(local) as client:
            yield client
        return
    try:
        client = distributed.Client(scheduler, timeout=f"{CONNECT_TIMEOUT_SECONDS}s")
    except (OSError, TimeoutError, ValueError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise QecInputError(f"cannot reach the Dask scheduler at {scheduler} within {CONNECT_TIMEOUT_SECONDS} s "
                            f"({reason}); check the address and that `dask scheduler` is running") from None
    with client:
        yield client


def _local_cluster(distributed: Any, workers: int) -> Any:
    """N single-threaded worker processes on 127.0.0.1, with no dashboard and so no use for the workers'
    statistical profiler (a stack sample every 10 ms, taken from the sampling thread's CPU)."""
    import dask

    with dask.config.set({"distributed.worker.profile.enabled": False}):
        return distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                        dashboard_address=None)
