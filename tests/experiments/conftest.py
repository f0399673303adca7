"""A Dask cluster on this machine, shared by the sweep and explore tests that use one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def dask_scheduler() -> Iterator[str]:
    """The address of a two-worker Dask cluster of separate processes on this machine.

    Every port is the system's choice (``0``) and the dashboards are off: a fixed
    port (the dashboard's 8787 by default) fails when another test or program on a
    busy machine holds it.
    """
    from distributed import LocalCluster  # noqa: PLC0415 (only the tests that ask pay for it)

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        scheduler_port=0,
        dashboard_address=None,
        worker_dashboard_address=None,
    ) as cluster:
        yield cluster.scheduler_address
