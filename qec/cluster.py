"""Dask executors for collect(): an existing scheduler (`tcp://HOST:PORT`) or a LocalCluster on 127.0.0.1.

Addresses are checked before anything connects or starts (`check_scheduler_address`, `parse_local_cluster`).

>>> from qec.cluster import parse_local_cluster
>>> parse_local_cluster("local:4")
4
"""

from __future__ import annotations

import logging
import os
import re
import signal
import threading
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

from qec.engine import WORKERS_PER_CORE, max_workers, signals_blocked
from qec.errors import QecInputError

CONNECT_TIMEOUT_SECONDS = 10


def parse_local_cluster(spec: str) -> int:
    """`local:N` -> N (worker processes, one thread each; N in ASCII digits), refused if more than this machine
    fits.

    >>> parse_local_cluster("local:²")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    qec.errors.QecInputError: malformed cluster 'local:²': use local:N with N >= 1 workers ...
    """
    if not isinstance(spec, str):
        raise QecInputError(f"cluster={spec!r} is not a cluster: give a string local:N, e.g. local:2")
    kind, _, count = spec.partition(":")
    if kind != "local" or not re.fullmatch(r"[0-9]{1,9}", count) or int(count) < 1:
        raise QecInputError(f"malformed cluster {spec!r}: use local:N with N >= 1 workers in digits 0-9, e.g. local:2")
    workers, limit = int(count), max_workers()
    if workers > limit:
        raise QecInputError(
            f"cluster {spec!r} would start {workers:,} worker processes, more than this machine "
            f"fits (at most {limit:,}: {WORKERS_PER_CORE} per core on {os.cpu_count() or 1} "
            f"cores); use local:N with N <= {limit}"
        )
    return workers


SCHEDULER_SCHEMES = ("tcp", "tls")
_HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)")


def check_scheduler_address(address: Any) -> None:
    """Refuses a scheduler address that is not `tcp://HOST:PORT` or `tls://HOST:PORT` (HOST a name, an IPv4 address
    or a bracketed IPv6 one; PORT in ASCII digits, 1 to 65535; HOST:PORT alone is tcp, as in Dask), and a `tls://`
    one when Dask's config has no TLS settings for a client (`distributed.comm.tls.ca-file`, `.client.cert`):
    before any connection or process.

    >>> check_scheduler_address("tcp://10.0.0.5:8786")
    >>> check_scheduler_address("ssh://10.0.0.5:8786")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    qec.errors.QecInputError: scheduler address 'ssh://10.0.0.5:8786' is not tcp://HOST:PORT or tls://HOST:PORT ...
    """
    if not isinstance(address, str):
        raise QecInputError(f"scheduler={address!r} is not an address: give a string such as tcp://10.0.0.5:8786")
    scheme, separator, rest = address.partition("://")
    if not separator:  # HOST:PORT, which Dask reads as tcp://HOST:PORT
        scheme, rest = "tcp", address
    host, _, port = rest.rpartition(":")
    if (
        scheme not in SCHEDULER_SCHEMES
        or not _HOST.fullmatch(host)
        or not re.fullmatch(r"[0-9]{1,5}", port)
        or not 1 <= int(port) <= 65535
    ):
        raise QecInputError(
            f"scheduler address {address[:100]!r} is not tcp://HOST:PORT or tls://HOST:PORT (port 1-65535 in "
            "digits 0-9): give the address `dask scheduler` prints, e.g. tcp://10.0.0.5:8786"
        )
    if scheme == "tls" and not _tls_configured():
        raise QecInputError(
            f"scheduler address {address!r} asks for TLS but Dask's config has no TLS settings for a client: set "
            "distributed.comm.tls.ca-file, distributed.comm.tls.client.cert and .key (e.g. in ~/.config/dask/ or "
            "DASK_DISTRIBUTED__COMM__TLS__CA_FILE), or use tcp://"
        )


def _tls_configured() -> bool:
    """Whether Dask's config gives a client what a tls:// connection needs (a CA file and a certificate)."""
    import dask

    tls = dask.config.get("distributed.comm.tls", default={}) or {}
    client = tls.get("client", {}) or {}
    return bool(tls.get("ca-file") and client.get("cert"))


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise QecInputError(
            "running on Dask needs dask.distributed: pip install 'qec-toolkit[dask]' (or '.[dask]' in "
            "a source checkout)"
        ) from None
    return distributed


@contextmanager
def dask_client(*, scheduler: str | None = None, cluster: str | None = None) -> Iterator[Any | None]:
    """Yields a connected `distributed.Client` (or None when neither option is given, for the local pool).

    `scheduler` is an address such as tcp://10.0.0.5:8786 or tls://... (TLS settings come from Dask's
    config); `cluster` is `local:N`, a LocalCluster of N single-threaded worker processes bound to 127.0.0.1.
    """
    if scheduler and cluster:
        raise QecInputError("scheduler= and cluster= are both given: give one")
    if not scheduler and not cluster:
        yield None
        return
    if cluster:
        workers = parse_local_cluster(cluster)
        distributed = _distributed()
        # Started with Ctrl-C blocked, the worker processes and the cluster's threads keep it blocked: Ctrl-C at a
        # terminal (sent to the whole process group) reaches only this thread, which stops everything cleanly.
        _start_resource_tracker()
        started: list[Any] = []
        try:
            with signals_blocked(signal.SIGINT):
                started.append(_local_cluster(distributed, workers))
                started.insert(0, distributed.Client(started[-1]))
        except BaseException:
            with _quiet_teardown():
                _close(started)
            raise
        with _torn_down_quietly(*started):  # the client, then its cluster
            yield started[0]
        return
    check_scheduler_address(scheduler)
    distributed = _distributed()
    try:
        client = distributed.Client(scheduler, timeout=f"{CONNECT_TIMEOUT_SECONDS}s")
    except (OSError, TimeoutError, ValueError, TypeError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise QecInputError(
            f"cannot reach the Dask scheduler at {scheduler} within {CONNECT_TIMEOUT_SECONDS} s "
            f"({reason}); check the address and that `dask scheduler` is running"
        ) from None
    with _torn_down_quietly(client):
        yield client


def _start_resource_tracker() -> None:
    """Starts multiprocessing's resource tracker now: the thread that starts it gets SIGINT and SIGTERM unblocked
    (CPython's `resource_tracker.ensure_running` unblocks rather than restoring the mask), which would undo the
    blocking while the cluster starts."""
    try:
        from multiprocessing import resource_tracker

        resource_tracker.ensure_running()
    except (ImportError, AttributeError, OSError):  # no tracker on this platform: nothing unblocks
        pass


@contextmanager
def _torn_down_quietly(*closables: Any) -> Iterator[None]:
    """Closes `closables` (a Client, then its LocalCluster) on the way out; after an exception (Ctrl-C), without
    logging (what Dask says then, about results it can no longer send, is noise) and with a second Ctrl-C
    ignored until they are closed."""
    try:
        yield
    except BaseException:
        with _quiet_teardown():
            _close(closables)
        raise
    _close(closables)


def _close(closables: Sequence[Any]) -> None:
    for closable in closables:
        closable.close()


@contextmanager
def _quiet_teardown() -> Iterator[None]:
    """No logging at all (Dask sets levels on some of its loggers, so raising a parent's is not enough), and in the
    main thread no second Ctrl-C (nor SIGTERM, where a Python handler takes it), until the block ends."""
    disabled = logging.root.manager.disable
    held = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            if callable(signal.getsignal(signum)):
                held[signum] = signal.signal(signum, signal.SIG_IGN)
    logging.disable(logging.CRITICAL)
    try:
        yield
    finally:
        logging.disable(disabled)
        for signum, handler in held.items():
            signal.signal(signum, handler)


def _local_cluster(distributed: Any, workers: int) -> Any:
    """N single-threaded worker processes on 127.0.0.1, logging errors only (not, say, that a chunk was cancelled
    after Ctrl-C), and no dashboard: the scheduler's and workers' HTTP servers (which Dask starts even with
    `dashboard_address=None`, the scheduler's on port 8787, with pages and metrics about the cluster) serve
    nothing, on ports the system picks; and so no use for the workers' statistical profiler (a stack sample
    every 10 ms, taken from the sampling thread's CPU)."""
    import dask

    with dask.config.set(
        {
            "distributed.worker.profile.enabled": False,
            "distributed.scheduler.http.routes": [],
            "distributed.worker.http.routes": [],
        }
    ):
        return distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.ERROR,
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
        )
