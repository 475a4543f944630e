"""A return over real HTTP: the customer asks (idempotently), an operator approves and receives,
finance reads the credit note, the customer reads a zero balance; others see nothing."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import GatewayProcess
from tests.e2e.gateway.flows import key, wait_for_status
from tests.integration.returns.conftest import delivered_order
from tests.support import wait_until

pytestmark = pytest.mark.e2e


async def test_a_customer_returns_goods_and_is_refunded_through_the_gateway(
    gateway: GatewayProcess, http: httpx.AsyncClient
) -> None:
    sku = gateway.system.unique("GWR")
    await gateway.system.create_sku(sku, {"HZ-01": 10}, price_minor=1_000)
    order = await delivered_order(gateway.system, [(sku, 2)])
    customer = gateway.auth("customer", sub=order.customer.id)
    stranger = gateway.auth("customer", sub=gateway.system.unique("cust"))
    operator, finance = gateway.auth("operator"), gateway.auth("finance")
    body = {"reason": "leaking", "lines": [{"sku": sku, "quantity": 1}]}

    idem = key()
    asked = await http.post(
        f"/v1/orders/{order.id}/returns", json=body, headers={**customer, **idem}
    )
    assert asked.status_code == 201, asked.text
    again = await http.post(
        f"/v1/orders/{order.id}/returns", json=body, headers={**customer, **idem}
    )
    assert again.json()["id"] == asked.json()["id"]  # replayed, not a second return
    ret = asked.json()
    assert (ret["state"], ret["amount"]["amount_minor"]) == ("requested", 1_000)
    assert asked.headers["location"] == f"/v1/returns/{ret['id']}"

    hidden = await http.post(
        f"/v1/orders/{order.id}/returns", json=body, headers={**stranger, **key()}
    )
    assert hidden.status_code == 404
    assert (await http.get(f"/v1/returns/{ret['id']}", headers=stranger)).status_code == 404
    too_many = {"reason": "all", "lines": [{"sku": sku, "quantity": 2}]}
    over = await http.post(
        f"/v1/orders/{order.id}/returns", json=too_many, headers={**customer, **key()}
    )
    assert over.status_code == 409, over.text
    bad = await http.post(
        f"/v1/orders/{order.id}/returns",
        json={"reason": "", "lines": []},
        headers={**customer, **key()},
    )
    assert bad.status_code == 422

    approved = await http.post(
        f"/v1/returns/{ret['id']}/approve", json={}, headers={**operator, **key()}
    )
    assert approved.status_code == 200, approved.text
    receipt = {"lines": [{"sku": sku, "resellable_quantity": 1, "damaged_quantity": 0}]}
    received = await http.post(
        f"/v1/returns/{ret['id']}/receive", json=receipt, headers={**operator, **key()}
    )
    assert received.status_code == 200, received.text

    async def refunded() -> bool:
        got = await http.get(f"/v1/returns/{ret['id']}", headers=customer)
        ret.update(got.json())
        return ret["state"] == "refunded"

    await wait_until(refunded, 30, "the return to be refunded")
    await wait_for_status(http, order.id, customer, {"partially_refunded"})
    note = await http.get(f"/v1/credit-notes/{ret['credit_note_id']}", headers=finance)
    assert note.status_code == 200, note.text
    assert note.json()["number"] == ret["credit_note_number"]
    assert note.json()["total"]["amount_minor"] == 1_000
    balance = await http.get(f"/v1/orders/{order.id}/balance", headers=customer)
    assert balance.status_code == 200
    money = {k: v["amount_minor"] for k, v in balance.json().items() if isinstance(v, dict)}
    assert money == {
        "invoiced": 2_000,
        "credited": 1_000,
        "paid": 2_000,
        "refunded": 1_000,
        "balance": 0,
    }
    listed = await http.get(f"/v1/orders/{order.id}/returns", headers=customer)
    assert [r["id"] for r in listed.json()["items"]] == [ret["id"]]
