"""Take what a JetStream pull consumer has ready now, without lingering.

The consume loop blocks for one message, then wants "whatever else is ready". nats-py's
`fetch(n, timeout)` cannot say that: when its local queue is empty it sends the pull request
with `expires`, and the server then treats it as a *lingering* pull, held open until n messages
arrived or `expires` passed. With a 5 ms timeout that was 5 ms of dead time on every consumer
loop — on every hop of every saga (six or more per order), and idle consumers under load.

A pull request with `no_wait` and no `expires` is answered at once: the ready messages, then a
404 (none left) or 408 status. That is the JetStream API's own contract
(`$JS.API.CONSUMER.MSG.NEXT`, https://docs.nats.io/reference/reference-protocols/nats_api_reference);
nats-py just does not expose it. We reuse the pull subscription's inbox and next-message
subject, so messages that arrive after we stop waiting are not lost: the next `fetch` drains
that inbox first.
"""

from __future__ import annotations

import json
import time

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import StatusCode

__all__ = ["take_ready"]

_HEARTBEAT = StatusCode.CONTROL_MESSAGE.value


async def take_ready(
    subscription: JetStreamContext.PullSubscription, limit: int, *, timeout: float = 0.5
) -> list[Msg]:
    """Up to `limit` messages the server has ready for this pull consumer, without waiting
    for more; `timeout` only bounds a lost answer."""
    # nats-py keeps the inbox and subject private; uv.lock pins the version and
    # tests/integration/platform covers this function against a real server.
    inbox = subscription._sub
    request = json.dumps({"batch": limit, "no_wait": True}).encode()
    await subscription._nc.publish(subscription._nms, request, reply=subscription._deliver)
    messages: list[Msg] = []
    deadline = time.monotonic() + timeout
    while len(messages) < limit:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            msg = await inbox.next_msg(timeout=remaining)
        except (TimeoutError, NatsTimeoutError):
            break
        status = JetStreamContext.is_status_msg(msg)
        if status is None:
            messages.append(msg)
        elif status != _HEARTBEAT:
            break  # 404 no more messages, 408 request expired, 409 …: the answer is complete
    return messages
