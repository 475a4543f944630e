"""Billing rules in plain Python: tax split, totals, invoice numbers, credit. No I/O."""
