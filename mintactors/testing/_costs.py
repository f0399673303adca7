"""Cost values pinned for tests whose instants depend on them.

Tests that place a frame in a race window of a few hundred nanoseconds must not
move when the built-in profile is recalibrated, so they give every cost
explicitly: these are the values of ``paper-2014`` version 1.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PINNED_COSTS", "pinned_cost_assignments"]

PINNED_COSTS: dict[str, Any] = {
    "copy_points": [
        [1024, 55],
        [1536, 85],
        [4096, 646],
        [8192, 1342],
        [12288, 2011],
        [16384, 3544],
    ],
    "frame_build_ns": 200,
    "syscall_entry_ns": 30,
    "syscall_exit_ns": 30,
    "descriptor_writeback_ns": 10,
    "icr_write_ns": 20,
    "ipi_latency_ns": 1000,
    "memory_latency_ns": 30,
    "irq_entry_ns": 400,
    "irq_exit_ns": 200,
    "driver_descriptor_ns": 50,
    "skb_alloc_ns": 100,
    "stack_ns": 1500,
    "refill_ns": 100,
    "eoi_ns": 50,
    "app_recv_ns": 500,
    "mb_ns": 10,
    "rmb_ns": 1,
    "wmb_ns": 2,
    "softirq_entry_ns": 50,
    "sched_slice_ns": 3_000_000,
    "netdev_budget": 300,
    "netdev_budget_usecs": 8000,
    "netdev_max_backlog": 1000,
    "dev_weight": 64,
    "handup_ns": 100,
}


def pinned_cost_assignments() -> list[str]:
    """The pinned costs as ``--set`` assignments."""
    return [f"costs.{name}={value}" for name, value in PINNED_COSTS.items()]
