"""The spike's timeline, shared by the Locust shape and the report (which must not import
Locust: importing it monkey-patches the process with gevent)."""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["SpikePlan", "env_float", "spike_plan"]


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


@dataclass(frozen=True)
class SpikePlan:
    """When each phase of the spike starts, in seconds since the run began."""

    rate: int
    factor: float
    ramp_start: float
    hold_start: float
    decay_start: float
    baseline_again: float
    end: float


def spike_plan() -> SpikePlan:
    duration = env_float("LOADTEST_DURATION", 120)
    rate = max(1, int(env_float("LOADTEST_RATE", 10)))
    warmup = max(10.0, 0.2 * duration)
    hold = max(10.0, env_float("LOADTEST_SPIKE_HOLD", 0.3 * duration))
    ramp_start = warmup
    hold_start = ramp_start + 10
    decay_start = hold_start + hold
    return SpikePlan(
        rate=rate,
        factor=env_float("LOADTEST_SPIKE_FACTOR", 10),
        ramp_start=ramp_start,
        hold_start=hold_start,
        decay_start=decay_start,
        baseline_again=decay_start + 10,
        end=max(duration, decay_start + 20),
    )
