"""Surge shared platform library.

Every Surge service is built from the same parts: typed settings (`config`), an async SQLAlchemy
engine and unit of work (`db`), a transactional outbox and inbox (`outbox`, `inbox`), JetStream
streams and consumers (`messaging`), a `grpc.aio` server (`grpc`), telemetry (`telemetry`,
`logging`) and a graceful process runner (`runtime`). `surge_platform.testing` is a pytest plugin
that starts real PostgreSQL and NATS servers from PyPI wheels.

This package imports nothing on purpose: import the submodule you need, so a service's domain
layer can use `surge_platform.errors` (stdlib only) without pulling in infrastructure.
"""
