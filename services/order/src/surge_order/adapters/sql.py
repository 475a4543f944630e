"""The order service's SQL: every statement in one place, read next to the schema
(migrations/versions/0001_initial.py).

Writes are single statements of data-modifying CTEs: a saga message costs one round trip for the
order, its history, the saga and its step log together (round trips are what cost CPU here).
"""

from __future__ import annotations

from sqlalchemy import text
from surge_platform.inbox import claim_cte

ORDER_COLUMNS = (
    "o.id, o.client_order_id, o.channel, o.external_id, o.customer_id, o.customer_name, "
    "o.customer_phone, o.province, o.city, o.district, o.line1, o.postal_code, o.lines, "
    "o.currency, o.subtotal_minor, o.discount_minor, o.total_minor, o.payment_terms, o.status, "
    "o.cancel_reason, o.tags, o.coupon_code, o.paid, o.created_at, o.updated_at, o.version"
)
SAGA_COLUMNS = (
    "s.id AS saga_id, s.state, s.current_step, s.direction, s.step_log_id, s.step_started_at, "
    "s.step_deadline, s.step_attempts, s.progress, s.plan, s.failure_reason, s.allocations, "
    "s.started_at AS saga_started_at, s.updated_at AS saga_updated_at"
)

FIND_EXISTING = text(
    "SELECT id FROM orders WHERE channel = :channel AND (client_order_id = :client_order_id "
    "OR external_id = :external_id) ORDER BY created_at LIMIT 1"
)
ORDER_VALUES = (
    ":id, :client_order_id, :channel, :external_id, :customer_id, :customer_name, "
    ":customer_phone, :province, :city, :district, :line1, :postal_code, CAST(:lines AS jsonb), "
    ":currency, :subtotal_minor, :discount_minor, :total_minor, :payment_terms, :status, :tags, "
    ":coupon_code, :created_at, :updated_at, :version"
)
INSERT_ORDER_CTE = (
    "o AS (INSERT INTO orders (id, client_order_id, channel, external_id, customer_id, "
    "customer_name, customer_phone, province, city, district, line1, postal_code, lines, "
    "currency, subtotal_minor, discount_minor, total_minor, payment_terms, status, tags, "
    f"coupon_code, created_at, updated_at, version) VALUES ({ORDER_VALUES}) "
    "ON CONFLICT DO NOTHING RETURNING id)"
)
INSERT_SAGA_CTE = (
    "s AS (INSERT INTO sagas (id, order_id, state, current_step, direction, step_log_id, "
    "step_started_at, step_deadline, step_attempts, progress, plan, failure_reason, allocations, "
    "started_at, updated_at) SELECT :s_id, o.id, :s_state, :s_current_step, :s_direction, "
    ":s_step_log_id, :s_step_started_at, :s_step_deadline, :s_step_attempts, :s_progress, "
    ":s_plan, :s_failure_reason, CAST(:s_allocations AS jsonb), :s_started_at, :s_updated_at "
    "FROM o)"
)
UPDATE_ORDER_CTE = (
    "o AS (UPDATE orders SET status = :o_status, cancel_reason = :o_cancel_reason, "
    "paid = :o_paid, updated_at = :o_updated_at, version = :o_version "
    "WHERE id = :o_id AND version = :o_expected RETURNING id)"
)
UPDATE_SAGA_CTE = (
    "s AS (UPDATE sagas SET state = :s_state, current_step = :s_current_step, "
    "direction = :s_direction, step_log_id = :s_step_log_id, "
    "step_started_at = :s_step_started_at, step_deadline = :s_step_deadline, "
    "step_attempts = :s_step_attempts, progress = :s_progress, plan = :s_plan, "
    "failure_reason = :s_failure_reason, allocations = CAST(:s_allocations AS jsonb), "
    "updated_at = :s_updated_at WHERE id = :s_id)"
)
HISTORY_CTE = (
    "h AS (INSERT INTO order_status_history (order_id, from_status, to_status, reason, at) "
    "SELECT o.id, x.f, x.t, x.r, x.a FROM o, unnest(CAST(:h_from AS text[]), "
    "CAST(:h_to AS text[]), CAST(:h_reason AS text[]), CAST(:h_at AS timestamptz[])) "
    "AS x(f, t, r, a))"
)
STEP_INSERT_CTE = (
    "si AS (INSERT INTO saga_steps (id, saga_id, step, direction, status, attempts, started_at) "
    "SELECT :si_id, :si_saga_id, :si_step, :si_direction, 'started', :si_attempts, "
    ":si_started_at {guard})"
)
STEP_UPDATE_CTE = (
    "su AS (UPDATE saga_steps SET status = coalesce(:su_status, status), "
    "attempts = :su_attempts, finished_at = coalesce(:su_finished_at, finished_at), "
    "failure_reason = coalesce(:su_failure_reason, failure_reason) WHERE id = :su_id)"
)
LOCK = text(
    f"SELECT {ORDER_COLUMNS}, {SAGA_COLUMNS} FROM orders o JOIN sagas s ON s.order_id = o.id "
    "WHERE o.id = :order_id FOR UPDATE"
)
# A saga message handled alone: its inbox claim (`surge_platform.inbox.claim_cte`) and then,
# if it is new, the lock of its order, in one round trip. The lateral lock depends on the claim,
# so it runs after it, in the order `idempotent()` takes them (claim, then lock) and a group
# commit too (claim_many, then lock_chunk). One row always: `claimed` 0 or 1, the order's columns
# NULL when it does not exist (or was not locked). The lock waits like LOCK's and then reads the
# row's newest version.
CLAIM_AND_LOCK = text(
    f"WITH {claim_cte('c')} "
    "SELECT k.claimed, x.* FROM (SELECT count(*) AS claimed FROM c) AS k LEFT JOIN LATERAL "
    f"(SELECT {ORDER_COLUMNS}, {SAGA_COLUMNS} FROM orders o JOIN sagas s ON s.order_id = o.id "
    "WHERE o.id = :order_id AND k.claimed = 1 FOR UPDATE OF o, s) AS x ON true"
)
# A group commit's orders at once, in id order (the lock order of every chunk: no deadlocks
# between chunks); see repository.lock_chunk.
LOCK_MANY = text(
    f"SELECT {ORDER_COLUMNS}, {SAGA_COLUMNS} FROM orders o JOIN sagas s ON s.order_id = o.id "
    "WHERE o.id = ANY(CAST(:ids AS uuid[])) ORDER BY o.id FOR UPDATE"
)
GET = text(
    f"SELECT {ORDER_COLUMNS}, {SAGA_COLUMNS} FROM orders o LEFT JOIN sagas s "
    "ON s.order_id = o.id WHERE o.id = :order_id"
)
DUE = text(
    f"SELECT {ORDER_COLUMNS}, {SAGA_COLUMNS} FROM sagas s JOIN orders o ON o.id = s.order_id "
    "WHERE s.step_deadline <= :now AND s.state IN ('running', 'compensating') "
    "ORDER BY s.step_deadline LIMIT :limit FOR UPDATE OF s, o SKIP LOCKED"
)
STEPS = text(
    "SELECT step, direction, status, attempts, started_at, finished_at, failure_reason "
    "FROM saga_steps WHERE saga_id = :saga_id ORDER BY id"
)
HISTORY = text(
    "SELECT from_status, to_status, reason, at FROM order_status_history "
    "WHERE order_id = :order_id ORDER BY id"
)
FIND_PAYMENT = text("SELECT 1 FROM payments WHERE order_id = :order_id AND reference = :reference")
INSERT_PAYMENT = text(
    "INSERT INTO payments (id, order_id, amount_minor, currency, method, reference, received_at) "
    "VALUES (:id, :order_id, :amount_minor, :currency, :method, :reference, :received_at)"
)
ADD_SHIPMENTS = text(
    "INSERT INTO order_shipments (shipment_id, order_id, warehouse) "
    "SELECT s, :order_id, w FROM unnest(CAST(:ids AS text[]), CAST(:warehouses AS text[])) "
    "AS x(s, w) ON CONFLICT DO NOTHING"
)
DISPATCHED = text(
    "INSERT INTO order_shipments (shipment_id, order_id, warehouse, dispatched_at) "
    "VALUES (:shipment_id, :order_id, :warehouse, :at) ON CONFLICT (shipment_id) DO UPDATE "
    "SET dispatched_at = coalesce(order_shipments.dispatched_at, EXCLUDED.dispatched_at)"
)
DELIVERED = text(
    "INSERT INTO order_shipments (shipment_id, order_id, warehouse, dispatched_at, "
    "delivered_at) VALUES (:shipment_id, :order_id, '', :at, :at) ON CONFLICT (shipment_id) "
    "DO UPDATE SET delivered_at = coalesce(order_shipments.delivered_at, EXCLUDED.delivered_at), "
    "dispatched_at = coalesce(order_shipments.dispatched_at, EXCLUDED.dispatched_at)"
)
SHIPMENT_COUNTS = text(
    "SELECT count(*) AS total, count(dispatched_at) AS dispatched, "
    "count(delivered_at) AS delivered FROM order_shipments WHERE order_id = :order_id"
)
SHIPMENT_COUNTS_MANY = text(
    "SELECT order_id, count(*) AS total, count(dispatched_at) AS dispatched, "
    "count(delivered_at) AS delivered FROM order_shipments "
    "WHERE order_id = ANY(CAST(:ids AS uuid[])) GROUP BY order_id"
)
