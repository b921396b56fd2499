"""Running independent tasks (one force, one district, one back-test) on Dask, or without it.

:func:`run_tasks` is the one loop: with no client it runs the tasks one after the other in
this process; with a ``dask.distributed`` client (:func:`connect`: a ``LocalCluster`` on
this machine, or a scheduler's address for a real cluster) each task runs on a worker.
Either way the results come back in the order of the inputs, so both give the same answer.
Dask is imported only when a client is asked for.
"""

from __future__ import annotations

from .errors import InputError
from .progress import Progress


def connect(scheduler: str | None = None, *, workers: int = 2, threads_per_worker: int = 1,
            memory_limit: str | float | None = "auto", processes: bool = True, timeout: float = 30.0):
    """A ``dask.distributed.Client``: to the scheduler at ``scheduler`` (``tcp://host:8786``),
    or to a new ``LocalCluster`` of ``workers`` workers on this machine.

    Parameters
    ----------
    scheduler : str, optional
        A running scheduler's address; its workers must have this package installed.
    workers, threads_per_worker : int
        Size of the local cluster (ignored with ``scheduler``). One thread a worker keeps
        one task, and so one force's grid, per worker at a time.
    memory_limit : str, float or None
        Each local worker's limit (``"auto"``: the machine's memory shared out; None: none).
    processes : bool
        Workers as processes (True, each with its own memory) or threads of this process.
    timeout : float
        Seconds to wait for the scheduler.

    Returns
    -------
    dask.distributed.Client
        Close it (or its cluster) when done; ``with connect(...) as client:`` does.

    Raises
    ------
    InputError
        The scheduler cannot be reached, or Dask is not installed.
    """
    try:
        from dask.distributed import Client
    except ImportError:
        raise InputError("dask", "dask.distributed is not installed", "pip install 'dask[distributed]'") from None
    if scheduler:
        try:
            return Client(scheduler, timeout=timeout)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(scheduler, f"no Dask scheduler answers at this address ({exc})",
                             "start one ('dask scheduler' and 'dask worker ADDRESS' on the cluster) "
                             "and give its tcp://host:port") from None
    # a client that starts its own LocalCluster closes it when it is closed
    return Client(n_workers=workers, threads_per_worker=threads_per_worker, processes=processes,
                  memory_limit=memory_limit, dashboard_address=None)


def worker_peaks_mb(client) -> dict:
    """Peak resident memory of each worker process so far, in MB, by worker address."""
    from .national import peak_rss_mb

    return client.run(peak_rss_mb)


def run_tasks(fn, items, *args, client=None, progress: Progress | None = None, names=None) -> list:
    """``[fn(item, *args) for item in items]``, one task an item.

    Parameters
    ----------
    fn : callable
        A module-level function (Dask sends it to the workers by reference).
    items : list
    *args
        The same further arguments for every task (sent once to the cluster).
    client : dask.distributed.Client, optional
        Run the tasks on its workers; None runs them here, one after the other.
    progress : callable(done, total, what), optional
        Called as each task finishes (in the order they finish on Dask).
    names : list of str, optional
        Each item's name for progress (default its position).

    Returns
    -------
    list
        The results in the order of ``items``.

    Raises
    ------
    Whatever the first failing task raised (an InputError naming its file stays one);
    the tasks not yet run are cancelled.
    """
    items = list(items)
    names = list(names) if names is not None else [str(i + 1) for i in range(len(items))]
    n = len(items)
    if client is None:
        out = []
        for i, item in enumerate(items):
            out.append(fn(item, *args))
            if progress is not None:
                progress(i + 1, n, f"{names[i]} done ({i + 1} of {n})")
        return out
    from dask.distributed import as_completed

    futures = [client.submit(fn, item, *args, key=f"{getattr(fn, '__name__', 'task')}-{i}-{names[i]}",
                             pure=False) for i, item in enumerate(items)]
    where = {f.key: i for i, f in enumerate(futures)}
    out: list = [None] * n
    try:
        for done, fut in enumerate(as_completed(futures), start=1):
            i = where[fut.key]
            out[i] = fut.result()
            if progress is not None:
                progress(done, n, f"{names[i]} done ({done} of {n})")
    except BaseException:
        client.cancel(futures)
        raise
    return out
