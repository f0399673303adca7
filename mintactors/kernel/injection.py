"""Injection at driver steps: an interrupt or a packet at a chosen moment of the handler.

The VMM-based method the paper replaces inserts an interrupt at a code point by a
hypercall. Here the driver's handler is written as named steps
(:data:`~mintactors.kernel.driver.HANDLER_STEPS`, and the NAPI steps), and the
driver calls a hook at each one. An :class:`Injector` is that hook: when the
handler reaches step ``S`` for the ``N``-th time, it fires its action, now or
``delay_ns`` later, at no cost to the handler:

``ipi``
    the target core's local APIC receives the driver's IPI ``delay_ns`` after the
    step (an IPI arriving then, exactly, as if the debug-support core had sent it
    one bus latency earlier);
``packet``
    the generator sends one more packet ``delay_ns`` after the step; it takes the
    whole path (build, system call, copy, descriptor, IPI) like any other.

Every firing is written to the trace as an ``InjectionFired`` note (summary level),
at the moment of the step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import attrs

from mintactors.effects import Effect, Note, Send, TraceLevel
from mintactors.messages import InjectPacket, IpiMessage
from mintactors.notes import NoteKind

__all__ = ["Injection", "Injector"]


@attrs.frozen
class Injection:
    """One planned injection: at the ``occurrence``-th ``step``, do ``action``."""

    step: str
    action: Literal["ipi", "packet"]
    occurrence: int = 1
    delay_ns: int = 0


class Injector:
    """The step hook that fires injections.

    Args:
        injections: what to fire, and when.
        target_apic: the actor of the target core's local APIC.
        vector: the driver's IPI vector.
        source_apic: the APIC ID injected IPIs come from (the debug-support core's).
        generator: the generator actor, for injected packets.
    """

    def __init__(
        self,
        *,
        injections: Sequence[Injection],
        target_apic: str,
        vector: int,
        source_apic: int,
        generator: str,
    ) -> None:
        self.injections = tuple(injections)
        self.target_apic = target_apic
        self.vector = vector
        self.source_apic = source_apic
        self.generator = generator
        self._by_step: dict[str, list[tuple[int, Injection]]] = {}
        for number, injection in enumerate(self.injections):
            self._by_step.setdefault(injection.step, []).append((number, injection))
        self.fired: list[tuple[int, int]] = []  # (injection number, t_ns)
        self.ipis_injected = 0  # the stranded-frame oracle counts these as sent IPIs

    @property
    def steps(self) -> frozenset[str]:
        """The steps some injection fires at (elsewhere the hook has nothing to do)."""
        return frozenset(self._by_step)

    def __call__(self, step: str, occurrence: int, now_ns: int) -> Sequence[Effect]:
        """The driver reached ``step`` for the ``occurrence``-th time at ``now_ns``."""
        planned = self._by_step.get(step)
        if not planned:
            return ()
        effects: list[Effect] = []
        for number, injection in planned:
            if injection.occurrence != occurrence:
                continue
            self.fired.append((number, now_ns))
            fields = {
                "injection": number,
                "step": step,
                "occurrence": occurrence,
                "action": injection.action,
                "delay_ns": injection.delay_ns,
            }
            effects.append(Note(NoteKind.INJECTION_FIRED, fields, TraceLevel.SUMMARY))
            if injection.action == "ipi":
                self.ipis_injected += 1
                ipi = IpiMessage(self.vector, self.source_apic, -1)
                effects.append(Send(self.target_apic, ipi, injection.delay_ns))
            else:  # the generator counts injected packets in its statistics
                effects.append(Send(self.generator, InjectPacket(), injection.delay_ns))
        return effects
