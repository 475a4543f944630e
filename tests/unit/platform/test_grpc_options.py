"""Every channel option we give grpc is one grpc's core knows: it ignores unknown keys without a
word, which is how the server's ping allowance once stayed at its 5-minute default."""

from __future__ import annotations

from pathlib import Path

import pytest
from grpc._cython import cygrpc
from surge_platform.grpc import CLIENT_OPTIONS, SERVER_OPTIONS


@pytest.fixture(scope="module")
def core_keys() -> bytes:
    # The core library holds each key it reads as a C string (e.g. "grpc.keepalive_time_ms").
    return Path(cygrpc.__file__).read_bytes()


@pytest.mark.parametrize("key", sorted({key for key, _ in [*SERVER_OPTIONS, *CLIENT_OPTIONS]}))
def test_option_is_a_key_grpc_core_reads(key: str, core_keys: bytes) -> None:
    assert key.encode() + b"\0" in core_keys


def test_a_key_grpc_does_not_know_is_caught(core_keys: bytes) -> None:
    assert b"grpc.http2.min_recv_ping_interval_without_data_ms\0" not in core_keys
