"""The order domain: status machine, saga rules, order placement rules. Stdlib only."""
