"""``intact_once`` and ``flow_order``: what the receiving application found.

The application checks every frame it receives and keeps each fault in
:attr:`~mintactors.kernel.app.ReceivingApp.problems` with its time: ``malformed``
and ``duplicate`` break ``intact_once``, ``reordered`` breaks ``flow_order``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from mintactors.oracles._base import ORACLES, Violation

if TYPE_CHECKING:
    from mintactors.kernel.app import ReceivingApp
    from mintactors.machine import Machine
    from mintactors.runtime import RunResult

__all__ = ["FlowOrder", "IntactOnce"]


def _message(kind: str, detail: dict[str, object]) -> str:
    seq = detail.get("seq")
    match kind:
        case "malformed":
            return f"frame seq {seq} reached the application damaged ({detail['problem']})"
        case "duplicate":
            return f"frame seq {seq} reached the application twice"
        case _:
            return f"frame seq {seq} arrived after seq {detail['after']} of the same flow"


class _ProblemWatch:
    """Turns the application's problems of some kinds into one oracle's violations."""

    during_run = True

    def __init__(
        self, oracle: str, kinds: frozenset[str], app: ReceivingApp, found: list[Violation]
    ) -> None:
        self.oracle = oracle
        self.kinds = kinds
        self.problems = app.problems
        # Problems are found only when the application takes a frame.
        self.reads: frozenset[str] | None = frozenset({app.name})
        self.found = found
        self.seen = 0

    def after_delivery(self, now_ns: int) -> None:
        """Record problems found since the last look."""
        problems = self.problems
        if len(problems) == self.seen:
            return
        for t_ns, kind, detail in problems[self.seen :]:
            if kind in self.kinds:
                message = _message(kind, detail)
                self.found.append(Violation(self.oracle, t_ns, t_ns, message, dict(detail)))
        self.seen = len(problems)

    def finish(self, run: RunResult, accounting_error: str | None) -> None:
        """Anything found in the last delivery."""
        self.after_delivery(run.now_ns)

    def report(self) -> dict[str, Any]:
        """No extra fields."""
        return {}


@ORACLES.register("intact_once")
@attrs.frozen
class IntactOnce:
    """Every frame received is intact and arrives once."""

    name: ClassVar[str] = "intact_once"
    description: ClassVar[str] = "every frame the application receives is intact and arrives once"

    def watch(self, machine: Machine, found: list[Violation]) -> _ProblemWatch:
        """Malformed and duplicate frames."""
        return _ProblemWatch(self.name, frozenset({"malformed", "duplicate"}), machine.app, found)


@ORACLES.register("flow_order")
@attrs.frozen
class FlowOrder:
    """Within each flow, sequence numbers arrive in increasing order."""

    name: ClassVar[str] = "flow_order"
    description: ClassVar[str] = "within each flow, sequence numbers arrive in increasing order"

    def watch(self, machine: Machine, found: list[Violation]) -> _ProblemWatch:
        """Reordered frames."""
        return _ProblemWatch(self.name, frozenset({"reordered"}), machine.app, found)
