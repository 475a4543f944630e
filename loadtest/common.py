"""What the load generator, the checker and the chaos driver share: the run manifest, the ledger
of accepted orders, tokens and unique buyers.

The manifest (JSON) describes a run's set-up: its SKUs with their initial stock, the flash-sale
SKU, its stock and per-customer limit, and the channel API keys. The ledger (JSON lines) records
what the clients were told: every order the gateway accepted, every payment and cancellation
that succeeded. The checker compares both with what the API reports after the run.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from surge_gateway.keys import ensure_keypair, make_token

__all__ = [
    "Buyer",
    "Ledger",
    "Manifest",
    "Tokens",
    "address",
    "default_host",
    "default_key_dir",
    "read_ledger",
    "say",
]

PROVINCES = ("Zhejiang", "Guangdong", "Jiangsu", "Shanghai", "Beijing", "Sichuan")


def default_key_dir() -> Path:
    """The dev stack's JWT key pair lives in its state dir (`.surge/` unless overridden)."""
    return Path(os.environ.get("SURGE_DEV_STATE_DIR", ".surge"))


def default_host() -> str:
    return f"http://127.0.0.1:{os.environ.get('SURGE_DEV_GATEWAY_PORT', '8080')}"


@dataclass
class Manifest:
    """A run's set-up, written before the load starts and read by the checker."""

    run_id: str
    started_at: float
    skus: dict[str, int] = field(default_factory=dict)
    shop_skus: list[str] = field(default_factory=list)
    flash_sku: str | None = None
    flash_stock: int = 0
    flash_limit: int = 0
    flash_limit_enforced: bool = False
    channel_keys: dict[str, str] = field(default_factory=dict)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, path: Path) -> Manifest:
        return cls(**json.loads(path.read_text()))


class Ledger:
    """Append-only JSON lines, safe to share between the greenlets/threads of one process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def record(self, event: str, order_id: str, **data: Any) -> None:
        line = json.dumps({"event": event, "id": order_id, "at": time.time(), **data})
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()

    def close(self) -> None:
        self._file.close()


def clear_run_files(out: Path) -> None:
    """Remove what a run appends to in `out`. An earlier run's lines there would be checked
    against this run's stack (its orders reported lost) and counted in this run's figures."""
    for name in ("ledger.jsonl", "client_latencies.csv", "client_started.txt"):
        (out / name).unlink(missing_ok=True)


def read_ledger(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class Tokens:
    """Bearer tokens: minted per customer with the dev key, or one given token for everything.

    A given token (another environment) must be admin: it places orders for others, pays and
    reads everything, so the per-principal rate limit of that one token applies to the run.
    """

    def __init__(self, key_dir: Path | None = None, token: str | None = None) -> None:
        self.token = token
        self._private: bytes | None = None
        if token is None:
            private_path, _ = ensure_keypair(key_dir or default_key_dir())
            self._private = private_path.read_bytes()

    @property
    def minting(self) -> bool:
        return self._private is not None

    def header(self, role: str, subject: str) -> dict[str, str]:
        if self._private is None:
            assert self.token is not None
            return {"Authorization": f"Bearer {self.token}"}
        token = make_token(self._private, subject=subject, roles=[role])
        return {"Authorization": f"Bearer {token}"}


@dataclass
class Buyer:
    """One synthetic customer with a phone and address nobody else in the run uses."""

    id: str
    name: str
    phone: str

    @classmethod
    def new(cls, run_id: str, kind: str) -> Buyer:
        n = uuid.uuid4().int
        return cls(
            id=f"lt-{run_id}-{kind}-{n % 16**10:010x}",
            name=f"Load {kind}",
            phone=f"+86139{n % 10**8:08d}",
        )


def address(tag: str | None = None) -> dict[str, str]:
    """A shipping address unique to one order: the velocity rule counts orders per address."""
    n = uuid.uuid4().int
    return {
        "province": PROVINCES[n % len(PROVINCES)],
        "city": "Hangzhou",
        "district": "Xihu",
        "line1": f"{tag or 'Load'} Rd {n % 10**9}",
        "postal_code": "310000",
    }


def say(text: str) -> None:
    """A line for the person running the tool (flushed: runs are long and often piped)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
