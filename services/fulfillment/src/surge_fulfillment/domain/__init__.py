"""The fulfillment domain: shipment state machine, parcel planning, carrier rules (stdlib only)."""
