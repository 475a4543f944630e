"""Load shapes (Locust `LoadTestShape`), configured by environment variables.

One simulated user paces one journey per second (`constant_pacing(1)`), so the user count is the
offered order rate: `LOADTEST_RATE=20` offers about 20 orders/s. Under overload a user's journey
takes longer than its pace and the offered rate falls: the accepted rate and the latency in the
report are what the system really did.

- steady: `LOADTEST_RATE` users for `LOADTEST_DURATION` seconds.
- spike (Double 11 midnight): baseline for `warmup`, then `LOADTEST_SPIKE_FACTOR`x the baseline
  within 10 s, held for `hold`, decaying back to the baseline over 10 s, baseline to the end.
- step: `LOADTEST_STEP` more users every `LOADTEST_STEP_SECONDS` (capacity search).
- flash: `LOADTEST_FLASH_BUYERS` buyers arrive within `LOADTEST_FLASH_ARRIVAL` seconds.
"""

from __future__ import annotations

import math

from locust import LoadTestShape

from loadtest.plan import env_float, spike_plan

__all__ = ["SHAPES"]


class _Shape(LoadTestShape):
    abstract = True

    def elapsed(self) -> float:
        return float(self.get_run_time())  # type: ignore[no-untyped-call]


class Steady(_Shape):
    abstract = True

    def tick(self) -> tuple[int, float] | None:
        rate = max(1, int(env_float("LOADTEST_RATE", 10)))
        if self.elapsed() > env_float("LOADTEST_DURATION", 60):
            return None
        return rate, max(1.0, rate / 2)


class Spike(_Shape):
    abstract = True

    def tick(self) -> tuple[int, float] | None:
        plan = spike_plan()
        t = self.elapsed()
        peak = math.ceil(plan.rate * plan.factor)
        # Spawn rate sized so the 10x arrives within 10 s, and the decay takes 10 s.
        fast = max(1.0, (peak - plan.rate) / 10)
        if t > plan.end:
            return None
        if t < plan.ramp_start:
            return plan.rate, max(1.0, plan.rate / 2)
        if t < plan.decay_start:
            return peak, fast
        return plan.rate, fast


class Step(_Shape):
    abstract = True

    def tick(self) -> tuple[int, float] | None:
        step = max(1, int(env_float("LOADTEST_STEP", 5)))
        seconds = env_float("LOADTEST_STEP_SECONDS", 20)
        t = self.elapsed()
        if t > env_float("LOADTEST_DURATION", 180):
            return None
        users = step * (1 + int(t // seconds))
        return users, float(max(step, 1))


class Flash(_Shape):
    abstract = True

    def tick(self) -> tuple[int, float] | None:
        buyers = int(env_float("LOADTEST_FLASH_BUYERS", 2000))
        arrival = env_float("LOADTEST_FLASH_ARRIVAL", 5)
        if self.elapsed() > env_float("LOADTEST_DURATION", 30):
            return None
        return buyers, max(1.0, buyers / arrival)


SHAPES: dict[str, type[LoadTestShape]] = {
    "steady": Steady,
    "spike": Spike,
    "step": Step,
    "flash": Flash,
}
