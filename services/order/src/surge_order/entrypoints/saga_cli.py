"""`surge-order sagas list|retry|compensate`: operator actions on sagas, through the gRPC API.

Runs next to the service (locally, or `kubectl exec deploy/surge-order -- surge-order sagas ...`)
and calls the order service on 127.0.0.1:$SURGE_ORDER_GRPC_PORT unless `--address` is given, so
every action goes through the same code, locks and audit trail as the gateway's admin routes.

    surge-order sagas list --state parked --older-than 60
    surge-order sagas retry 0193c1f4-...
    surge-order sagas compensate 0193c1f4-... --reason "stuck after carrier outage"
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Callable

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["STATES", "run"]

STATES = ("parked", "stuck", "running")


class _Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SURGE_ORDER_", extra="ignore")

    grpc_port: int = Field(default=50051, ge=1, le=65535)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="surge-order sagas", description="List, retry or force-compensate order sagas"
    )
    parser.add_argument(
        "--address", help="host:port of the order gRPC API (default 127.0.0.1:$GRPC_PORT)"
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per call")
    actions = parser.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="parked and in-flight sagas, oldest step first")
    listing.add_argument(
        "--state",
        choices=STATES,
        help="parked: compensation_failed; stuck: step resent or past its deadline; "
        "running: any step in flight (default: parked and in flight)",
    )
    listing.add_argument(
        "--older-than",
        type=_bounded(0, 366 * 24 * 3600),
        default=0,
        metavar="SECONDS",
        help="current step at least this old",
    )
    listing.add_argument(
        "--limit", type=_bounded(1, 1000), default=100, help="at most this many (max 1000)"
    )
    retry = actions.add_parser("retry", help="resend the current step of a parked/stalled saga")
    retry.add_argument("order_id")
    compensate = actions.add_parser(
        "compensate", help="cancel the order and compensate its saga now"
    )
    compensate.add_argument("order_id")
    compensate.add_argument("--reason", default="", help='default "forced by operator"')
    for sub in (retry, compensate):
        sub.add_argument("--actor", default=f"cli:{_user()}", help="who does it (audit)")
    return parser


def _bounded(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return value

    return parse


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def run(argv: list[str]) -> None:
    args = _parser().parse_args(argv)
    address = args.address or f"127.0.0.1:{_Settings().grpc_port}"
    import grpc

    try:
        asyncio.run(_run(address, args))
    except grpc.aio.AioRpcError as exc:
        raise SystemExit(f"error: {exc.code().name}: {exc.details()}") from None


async def _run(address: str, args: argparse.Namespace) -> None:
    from surge.order.v1 import order_pb2, order_pb2_grpc
    from surge_platform.grpc import channel

    async with channel(address) as chan:
        stub = order_pb2_grpc.OrderServiceStub(chan)
        if args.action == "list":
            filters = {
                None: order_pb2.SAGA_FILTER_UNSPECIFIED,
                "parked": order_pb2.SAGA_FILTER_PARKED,
                "stuck": order_pb2.SAGA_FILTER_STUCK,
                "running": order_pb2.SAGA_FILTER_RUNNING,
            }
            reply = await stub.ListSagas(
                order_pb2.ListSagasRequest(
                    filter=filters[args.state],
                    older_than_seconds=args.older_than,
                    page_size=args.limit,
                ),
                timeout=args.timeout,
            )
            for saga in reply.sagas:
                state = order_pb2.SagaState.Name(saga.state).removeprefix("SAGA_STATE_").lower()
                status = order_pb2.OrderStatus.Name(saga.order_status)
                sys.stdout.write(
                    f"{saga.order_id}  {state}  {saga.current_step or '-'}"
                    f"  attempts={saga.step_attempts}  age={saga.age_seconds}s"
                    f"  order={status.removeprefix('ORDER_STATUS_').lower()}"
                    f"  {saga.failure_reason}\n"
                )
            sys.stdout.write(f"{len(reply.sagas)} sagas\n")
            return
        if args.action == "retry":
            retried = await stub.RetrySaga(
                order_pb2.RetrySagaRequest(order_id=args.order_id, actor=args.actor),
                timeout=args.timeout,
            )
            order = retried.order
        else:
            compensated = await stub.CompensateSaga(
                order_pb2.CompensateSagaRequest(
                    order_id=args.order_id, actor=args.actor, reason=args.reason
                ),
                timeout=args.timeout,
            )
            order = compensated.order
        state = order_pb2.SagaState.Name(order.saga.state).removeprefix("SAGA_STATE_").lower()
        sys.stdout.write(
            f"{args.action}: order {order.id} saga {state} step {order.saga.current_step or '-'}\n"
        )
