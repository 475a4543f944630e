from __future__ import annotations


def test_token_command_offers_exactly_the_user_roles() -> None:
    from surge_gateway.auth import USER_ROLES
    from surge_gateway.entrypoints.cli import TOKEN_ROLES

    assert sorted(TOKEN_ROLES) == sorted(role.value for role in USER_ROLES)
