"""Test support: real PostgreSQL and NATS servers from PyPI wheels, and pytest fixtures.

The pytest plugin (`surge_platform.testing.plugin`, registered as an entry point) starts one
PostgreSQL and one NATS JetStream server per test session on free loopback ports in temporary
directories. Tests get isolation from per-test databases (`database_url`) and per-test subject
prefixes (`nats_prefix`), never from shared state.
"""
