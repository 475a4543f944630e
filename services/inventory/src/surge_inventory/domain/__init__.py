"""The inventory domain: catalog rules, allocation and the reservation life cycle (stdlib only)."""
