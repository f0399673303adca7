"""``conservation``: every packet sent is delivered, dropped with a reason, or in flight.

The count itself is the results' accounting
(:func:`~mintactors.experiments.run.results.account`); the run pipeline hands this
oracle the accounting's error, if any, at the end of the run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from mintactors.oracles._base import ORACLES, Violation

if TYPE_CHECKING:
    from mintactors.machine import Machine
    from mintactors.runtime import RunResult

__all__ = ["Conservation"]


class _ConservationWatch:
    during_run = False
    reads: frozenset[str] | None = None

    def __init__(self, found: list[Violation]) -> None:
        self.found = found

    def after_delivery(self, now_ns: int) -> None:
        """Nothing to look at during the run."""

    def finish(self, run: RunResult, accounting_error: str | None) -> None:
        """A failed accounting is the violation."""
        if accounting_error is not None:
            self.found.append(Violation("conservation", run.now_ns, None, accounting_error, {}))

    def report(self) -> dict[str, Any]:
        """No extra fields."""
        return {}


@ORACLES.register("conservation")
@attrs.frozen
class Conservation:
    """Sent = delivered + dropped (with a named reason) + in flight."""

    name: ClassVar[str] = "conservation"
    description: ClassVar[str] = (
        "every packet sent is delivered, dropped with a named reason, or in flight"
    )

    def watch(self, machine: Machine, found: list[Violation]) -> _ConservationWatch:
        """Checked at the end, from the accounting."""
        return _ConservationWatch(found)
