"""Test-wide settings: hypothesis profiles; no test writes outside its temporary
directories; a Dask cluster for the tests that use one.

``ci`` (the default) keeps property tests fast and repeatable: no per-example
deadline (a shared, busy machine makes timings flaky), the usual 100 examples
unless a test asks for more, and a derandomised search, so a CI run cannot fail
on an example no earlier run tried. ``attack`` searches for real: random, and ten
times the examples (``MINTACTORS_HYPOTHESIS=attack python -m pytest tests/fuzz``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "attack",
    deadline=None,
    max_examples=1000,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("MINTACTORS_HYPOTHESIS", "ci"))


@pytest.fixture(autouse=True, scope="session")
def _checkpoint_key_in_a_temporary_directory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    """Checkpoints are signed with a key kept in the state directory; tests use their own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MINTACTORS_STATE_DIR", str(tmp_path_factory.mktemp("state")))
        yield


@pytest.fixture(scope="module")
def dask_scheduler() -> Iterator[str]:
    """The address of a two-worker Dask cluster of separate processes on this machine.

    Every port is the system's choice (``0``) and the dashboards are off: a fixed
    port (the dashboard's 8787 by default) fails when another test or program on a
    busy machine holds it. One per test module, not per session: the scheduler
    runs in this process, and its threads' allocations would show in the tests
    that measure this process's memory.
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
