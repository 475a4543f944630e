"""The simulated people: shoppers, marketplace webhooks and flash-sale buyers.

Every class is abstract; `locustfile.py` makes the ones of the chosen scenario concrete. Each
order uses a phone and an address nobody else uses (the velocity rule holds a phone or address
with more than 3 orders in 10 minutes for review). What the gateway accepted, and which payments
and cancellations succeeded, goes to the run's ledger for the invariant checker.
"""

from __future__ import annotations

import json
import os
import random
import uuid
from pathlib import Path
from typing import Any

import gevent  # type: ignore[import-untyped]
from locust import FastHttpUser, constant, constant_pacing, task
from surge_gateway.channels.signature import SIGNATURE_HEADER, sign

from loadtest.common import Buyer, Ledger, Manifest, Tokens, address, default_key_dir

__all__ = ["ChannelWebhook", "FlashBuyer", "Shopper"]

_manifest: Manifest | None = None
_ledger: Ledger | None = None
_tokens: Tokens | None = None

PLACE = "POST /v1/orders"
WEBHOOK = "POST /v1/channels/{channel}/orders"


def context() -> tuple[Manifest, Ledger, Tokens]:
    """The run's manifest, ledger and tokens, loaded once per Locust process."""
    global _manifest, _ledger, _tokens
    if _manifest is None or _ledger is None or _tokens is None:
        _manifest = Manifest.load(Path(os.environ["LOADTEST_MANIFEST"]))
        _ledger = Ledger(Path(os.environ["LOADTEST_LEDGER"]))
        token = os.environ.get("LOADTEST_TOKEN") or None
        key_dir = Path(os.environ.get("LOADTEST_KEY_DIR") or default_key_dir())
        _tokens = Tokens(None if token else key_dir, token)
    return _manifest, _ledger, _tokens


def _phone() -> str:
    return f"+86139{uuid.uuid4().int % 10**8:08d}"


class _Buyer(FastHttpUser):
    abstract = True
    kind = "buyer"

    def on_start(self) -> None:
        self.manifest, self.ledger, tokens = context()
        self.buyer = Buyer.new(self.manifest.run_id, self.kind)
        self.auth = tokens.header("customer", self.buyer.id)
        self.ordering_for_others = not tokens.minting

    def order_body(self, sku: str, quantity: int, terms: str) -> dict[str, Any]:
        customer: dict[str, str] = {"name": self.buyer.name, "phone": _phone()}
        if self.ordering_for_others:
            customer["id"] = self.buyer.id
        return {
            "customer": customer,
            "shipping_address": address(self.kind),
            "lines": [{"sku": sku, "quantity": quantity}],
            "payment_terms": terms,
        }

    def place(self, sku: str, quantity: int, terms: str, retries: int = 0) -> dict[str, Any] | None:
        """Place one order; on 429/503 retry up to `retries` times after Retry-After, with the
        same Idempotency-Key and body, as a well-behaved client does."""
        headers = {**self.auth, "Idempotency-Key": uuid.uuid4().hex}
        body = self.order_body(sku, quantity, terms)
        for _ in range(retries):
            order, wait = self._place_once(sku, quantity, terms, body, headers)
            if wait is None:
                return order
            gevent.sleep(wait)
        order, _ = self._place_once(sku, quantity, terms, body, headers)
        return order

    def _place_once(
        self,
        sku: str,
        quantity: int,
        terms: str,
        body: dict[str, Any],
        headers: dict[str, str],
    ) -> tuple[dict[str, Any] | None, float | None]:
        """The order (or None) and, when shed, how long the gateway asked us to wait."""
        with self.client.post(
            "/v1/orders", json=body, headers=headers, name=PLACE, catch_response=True
        ) as response:
            if response.status_code in (200, 202):
                order: dict[str, Any] = response.json()
                self.ledger.record(
                    "accepted",
                    order["id"],
                    kind=self.kind,
                    customer=order["customer"]["id"],
                    sku=sku,
                    quantity=quantity,
                    terms=terms,
                )
                response.success()
                return order, None
            if response.status_code in (429, 503):
                response.failure(f"shed {response.status_code}")
                retry_after = response.headers.get("Retry-After") or "1"
                return None, float(retry_after) if retry_after.isdigit() else 1.0
            if response.status_code == 422 or _sold_out(response):
                # A business refusal (above the purchase limit, sold out) is an answer, not an
                # error.
                self.ledger.record("refused", "", kind=self.kind, sku=sku, quantity=quantity)
                response.success()
            else:
                response.failure(f"{response.status_code}")
        return None, None


def _sold_out(response: Any) -> bool:
    """409 for a SKU the order service knows just sold out (not an Idempotency-Key conflict)."""
    if response.status_code != 409:
        return False
    try:
        return str(response.json().get("detail", "")).startswith("sold out")
    except ValueError:
        return False


class Shopper(_Buyer):
    """Browse, place, pay, track, and sometimes cancel: one journey per second."""

    abstract = True
    kind = "shop"
    wait_time = constant_pacing(1)

    @task
    def journey(self) -> None:
        sku = random.choice(self.manifest.shop_skus)
        self.client.get(
            f"/v1/inventory/skus/{sku}", headers=self.auth, name="GET /v1/inventory/skus/{sku}"
        )
        prepaid = random.random() < 0.6
        order = self.place(sku, random.randint(1, 3), "prepaid" if prepaid else "on_account")
        if order is None:
            return
        roll = random.random()
        if roll < 0.1:
            self.cancel(order["id"])
            return
        if prepaid and roll < 0.9:
            pending = self.wait_for(order["id"], "pending_payment", tries=6)
            if pending is not None:
                self.pay(pending)
        self.track(order["id"])

    def track(self, order_id: str) -> dict[str, Any] | None:
        with self.client.get(
            f"/v1/orders/{order_id}",
            headers=self.auth,
            name="GET /v1/orders/{id}",
            catch_response=True,
        ) as response:
            if response.status_code == 200:
                detail: dict[str, Any] = response.json()
                return detail
            response.failure(f"{response.status_code}")
        return None

    def wait_for(self, order_id: str, status: str, tries: int) -> dict[str, Any] | None:
        for _ in range(tries):
            detail = self.track(order_id)
            if detail is not None and detail["status"] == status:
                return detail
            if detail is not None and detail["status"] not in ("reserving", "pending_review"):
                return None
            gevent.sleep(0.5)
        return None

    def pay(self, order: dict[str, Any]) -> None:
        body = {
            "amount": order["total"],
            "method": "alipay",
            "reference": f"lt-{uuid.uuid4().hex[:16]}",
        }
        headers = {**self.auth, "Idempotency-Key": uuid.uuid4().hex}
        with self.client.post(
            f"/v1/orders/{order['id']}/payments",
            json=body,
            headers=headers,
            name="POST /v1/orders/{id}/payments",
            catch_response=True,
        ) as response:
            if response.status_code == 200:
                self.ledger.record("paid", order["id"])
            elif response.status_code in (409, 422):
                response.success()  # e.g. cancelled by the payment timeout meanwhile
            else:
                response.failure(f"{response.status_code}")

    def cancel(self, order_id: str) -> None:
        with self.client.post(
            f"/v1/orders/{order_id}/cancel",
            json={"reason": "changed my mind"},
            headers=self.auth,
            name="POST /v1/orders/{id}/cancel",
            catch_response=True,
        ) as response:
            if response.status_code == 200:
                self.ledger.record("cancelled", order_id)
            elif response.status_code in (409, 422):
                response.success()  # e.g. already dispatched: a valid refusal
            else:
                response.failure(f"{response.status_code}")


class ChannelWebhook(FastHttpUser):
    """A marketplace pushing Tmall trades in bursts of `LOADTEST_BURST`, signed with its key."""

    abstract = True
    wait_time = constant_pacing(float(os.environ.get("LOADTEST_BURST", 5)))

    def on_start(self) -> None:
        self.manifest, self.ledger, _ = context()
        self.key = self.manifest.channel_keys.get("tmall", "")

    @task
    def burst(self) -> None:
        if not self.key:
            gevent.sleep(1)
            return
        for _ in range(int(os.environ.get("LOADTEST_BURST", 5))):
            self.push()

    def push(self) -> None:
        n = uuid.uuid4().hex
        sku = random.choice(self.manifest.shop_skus)
        where = address("tmall")
        trade = {
            "tid": f"lt{n[:20]}",
            "buyer_open_uid": f"lt-{self.manifest.run_id}-{n[20:]}",
            "receiver_name": "Tmall Buyer",
            "receiver_mobile": _phone(),
            "receiver_state": where["province"],
            "receiver_city": where["city"],
            "receiver_district": where["district"],
            "receiver_address": where["line1"],
            "receiver_zip": where["postal_code"],
            "orders": {"order": [{"outer_sku_id": sku, "num": random.randint(1, 2)}]},
        }
        raw = json.dumps(trade).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Api-Key": self.key,
            SIGNATURE_HEADER: sign(self.key, raw),
            "Idempotency-Key": uuid.uuid4().hex,
        }
        with self.client.post(
            "/v1/channels/tmall/orders",
            data=raw.decode(),
            headers=headers,
            name=WEBHOOK,
            catch_response=True,
        ) as response:
            if response.status_code in (200, 202):
                order = response.json()["order"]
                self.ledger.record(
                    "accepted",
                    order["id"],
                    kind="channel",
                    customer=order["customer"]["id"],
                    sku=sku,
                    quantity=trade["orders"]["order"][0]["num"],  # type: ignore[index]
                    terms="on_account",
                )
            elif response.status_code in (429, 503):
                response.failure(f"shed {response.status_code}")
            else:
                response.failure(f"{response.status_code}")


class FlashBuyer(_Buyer):
    """秒杀: one buyer, one attempt at the flash-sale SKU; a few try to beat the limit."""

    abstract = True
    kind = "flash"
    wait_time = constant(1)

    def on_start(self) -> None:
        super().on_start()
        self.done = False

    @task
    def buy(self) -> None:
        if self.done:
            gevent.sleep(5)
            return
        self.done = True
        sku = self.manifest.flash_sku
        assert sku is not None
        limit = max(1, self.manifest.flash_limit)
        roll = random.random()
        retries = int(os.environ.get("LOADTEST_FLASH_RETRIES", 3))
        if roll < 0.1:
            self.place(sku, limit + 1, "on_account", retries)  # one order above the limit
        elif roll < 0.2:
            for _ in range(2):  # two orders that together exceed it
                self.place(sku, limit, "on_account", retries)
        else:
            self.place(sku, 1, "on_account", retries)
