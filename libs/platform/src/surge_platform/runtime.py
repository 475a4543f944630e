"""Process lifecycle: run a service's long-lived tasks and stop them gracefully.

On SIGTERM or SIGINT the runtime sets one stop event; every task watches it, finishes its
in-flight work and returns. Shutdown hooks run in reverse order of registration (gRPC stops
accepting first, NATS drains last). Anything still running after the grace period is cancelled,
so the process always exits within the grace period plus a second.

    runtime = Runtime("inventory", grace=8.0)
    runtime.add_task("relay", relay.run)
    runtime.on_shutdown(lambda: server.stop(5))
    await runtime.run()
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from surge_platform.logging import get_logger

__all__ = ["Runtime"]

Task = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
Hook = Callable[[], Awaitable[object]]


class Runtime:
    def __init__(self, name: str, *, grace: float = 8.0) -> None:
        self.name = name
        self.grace = grace
        self.stop = asyncio.Event()
        self._tasks: list[tuple[str, Task]] = []
        self._hooks: list[tuple[str, Hook]] = []
        self._log = get_logger("surge.runtime")

    def add_task(self, name: str, task: Task) -> None:
        self._tasks.append((name, task))

    def on_shutdown(self, name: str, hook: Hook) -> None:
        self._hooks.append((name, hook))

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop.set)
        running: dict[asyncio.Task[None], str] = {
            asyncio.create_task(task(self.stop), name=name): name for name, task in self._tasks
        }
        self._log.info("service started", tasks=list(running.values()))
        stopper: asyncio.Task[object] = asyncio.create_task(self.stop.wait())
        await asyncio.wait({*running, stopper}, return_when=asyncio.FIRST_COMPLETED)
        crashed = [t for t in running if t.done() and t.exception() is not None]
        for task in crashed:
            self._log.error(
                "task crashed; stopping", task=running[task], error=repr(task.exception())
            )
        self.stop.set()
        await self._shutdown(running)
        stopper.cancel()
        if crashed:
            raise SystemExit(1)

    async def _shutdown(self, running: dict[asyncio.Task[None], str]) -> None:
        self._log.info("stopping", grace_seconds=self.grace)
        deadline = asyncio.get_running_loop().time() + self.grace
        pending = {t for t in running if not t.done()}
        if pending:
            _, pending = await asyncio.wait(pending, timeout=self.grace / 2)
        for name, hook in reversed(self._hooks):
            remaining = max(0.1, deadline - asyncio.get_running_loop().time())
            try:
                await asyncio.wait_for(hook(), remaining)
            except Exception:
                self._log.warning("shutdown hook failed", hook=name, exc_info=True)
        for task in pending:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait(pending, timeout=1.0)
        self._log.info("stopped")
