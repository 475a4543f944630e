"""The OperationsService every service serves: batches are all or nothing, counts are real."""

from __future__ import annotations

from typing import Any

import pytest
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine
from surge.operations.v1 import operations_pb2 as pb
from surge_platform import errors
from surge_platform.messaging import HEADER_DLQ_CONSUMER, HEADER_MESSAGE_ID, Topology
from surge_platform.ops_service import OperationsServicer
from surge_platform.telemetry import PlatformMetrics

pytestmark = pytest.mark.integration

CONTEXT: Any = None  # the servicer never touches its gRPC context


async def _letter(js: JetStreamContext, topology: Topology, consumer: str, n: int) -> int:
    ack = await js.publish(
        topology.dlq_subject(consumer),
        b"x",
        headers={HEADER_DLQ_CONSUMER: consumer, HEADER_MESSAGE_ID: f"{consumer}-{n}"},
    )
    return int(ack.seq)


async def test_a_batch_naming_another_services_letter_changes_nothing(
    engine: AsyncEngine, js: JetStreamContext, topology: Topology, metrics: PlatformMetrics
) -> None:
    billing = OperationsServicer(engine, js, topology, "billing", ["billing-commands"])
    mine = await _letter(js, topology, "billing-commands", 1)
    theirs = await _letter(js, topology, "order-saga", 1)

    with pytest.raises(errors.NotFound):
        await billing.PurgeDeadLetters(
            pb.PurgeDeadLettersRequest(sequences=[mine, theirs]), CONTEXT
        )
    listed = await billing.ListDeadLetters(pb.ListDeadLettersRequest(), CONTEXT)
    assert [d.sequence for d in listed.dead_letters] == [mine]
    with pytest.raises(errors.InvalidArgument):
        await billing.RedriveDeadLetters(pb.RedriveDeadLettersRequest(), CONTEXT)


async def test_depth_gauge_and_backlog_count_only_this_services_letters(
    engine: AsyncEngine, js: JetStreamContext, topology: Topology, metrics: PlatformMetrics
) -> None:
    billing = OperationsServicer(
        engine, js, topology, "billing", ["billing-commands", "billing-events"]
    )
    for n in range(3):
        await _letter(js, topology, "billing-commands", n)
    await _letter(js, topology, "order-saga", 9)
    collect = billing.dead_letter_gauge(metrics)

    await collect()
    depth = metrics.registry.get_sample_value
    assert depth("surge_dead_letter_messages", {"consumer": "billing-commands"}) == 3
    assert depth("surge_dead_letter_messages", {"consumer": "billing-events"}) == 0
    assert depth("surge_dead_letter_messages", {"consumer": "order-saga"}) is None
    backlog = await billing.GetBacklog(pb.GetBacklogRequest(), CONTEXT)
    assert backlog.service == "billing"
    assert backlog.dead_letters == 3

    purged = await billing.PurgeDeadLetters(pb.PurgeDeadLettersRequest(all=True), CONTEXT)
    assert len(purged.dead_letters) == 3
    await collect()
    assert depth("surge_dead_letter_messages", {"consumer": "billing-commands"}) == 0
