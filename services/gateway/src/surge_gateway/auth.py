"""Who is calling: JWT bearer tokens (PyJWT) and API keys, and which roles each route allows.

Every route declares its roles with an `Annotated` alias built by `allow(...)`; the dependency
authenticates (401), checks the role (403) and applies the per-principal rate limit (429). A
customer token's subject is the customer id; `Principal.sees_only_own` tells routes to scope
data to it (someone else's order is a 404, never a 403, so ids cannot be probed).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, Protocol

import jwt
from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.encoders import jsonable_encoder
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from surge_gateway.problems import ProblemError

__all__ = [
    "PURCHASERS",
    "ApiKey",
    "ApiKeyStore",
    "Authenticator",
    "CurrentUser",
    "Principal",
    "Role",
    "allow",
    "api_routes",
    "document_security",
    "hash_api_key",
]


class Role(StrEnum):
    CUSTOMER = "customer"
    OPERATOR = "operator"
    FINANCE = "finance"
    ADMIN = "admin"
    CHANNEL = "channel"
    CARRIER = "carrier"


USER_ROLES = frozenset({Role.CUSTOMER, Role.OPERATOR, Role.FINANCE, Role.ADMIN})
STAFF = frozenset({Role.OPERATOR, Role.FINANCE, Role.ADMIN})


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a user with roles, or an API key (channel or carrier)."""

    subject: str
    roles: frozenset[Role]
    kind: str = "user"  # "user" | "channel" | "carrier"

    @property
    def sees_only_own(self) -> bool:
        """True for customers: they see their own orders and nothing else."""
        return not (self.roles & STAFF) and Role.CUSTOMER in self.roles

    @property
    def rate_key(self) -> str:
        return f"{self.kind}:{self.subject}"

    @property
    def rate_class(self) -> str:
        """Which configured limit applies: the most generous role's."""
        for role in (Role.ADMIN, Role.OPERATOR, Role.FINANCE, Role.CHANNEL, Role.CARRIER):
            if role in self.roles:
                return role.value
        return Role.CUSTOMER.value


@dataclass(frozen=True)
class ApiKey:
    """A stored API key: its owner's name (channel or carrier) and kind."""

    name: str
    kind: str


class ApiKeyStore(Protocol):
    async def find(self, key_hash: str) -> ApiKey | None: ...


def hash_api_key(key: str) -> str:
    """Keys are stored as SHA-256: they are long random tokens, so no salt/KDF is needed."""
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass
class Authenticator:
    """Verifies bearer tokens and API keys; caches API key look-ups briefly."""

    public_key: Any  # a loaded cryptography public key (parsed once, not per request)
    algorithm: str
    issuer: str
    audience: str
    api_keys: ApiKeyStore
    api_key_cache_seconds: float = 30.0
    cache_size: int = 10_000
    _key_cache: dict[str, tuple[float, ApiKey | None]] = field(default_factory=dict)
    _token_cache: dict[str, tuple[float, Principal]] = field(default_factory=dict)

    def verify_token(self, token: str) -> Principal:
        """The token's principal; a verified token is remembered until it expires (a signature
        check costs more CPU than the rest of a read request)."""
        cached = self._token_cache.get(token)
        if cached is not None and cached[0] > time.time():
            return cached[1]
        principal, expires = self._verify(token)
        if len(self._token_cache) >= self.cache_size:
            self._token_cache.clear()
        self._token_cache[token] = (expires, principal)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            claims = jwt.decode(
                token,
                self.public_key,
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise unauthorized("The bearer token is invalid or expired.") from exc
        raw = claims.get("roles", [])
        names = [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, list) else []
        roles = frozenset(Role(r) for r in names if r in {x.value for x in USER_ROLES})
        subject = claims["sub"]
        if not roles or not isinstance(subject, str) or not subject:
            raise unauthorized("The bearer token carries no known role.")
        return Principal(subject=subject, roles=roles), float(claims["exp"])

    async def verify_api_key(self, key: str) -> ApiKey | None:
        digest = hash_api_key(key)
        now = time.monotonic()
        cached = self._key_cache.get(digest)
        if cached is not None and cached[0] > now:
            return cached[1]
        found = await self.api_keys.find(digest)
        if len(self._key_cache) >= self.cache_size:
            self._key_cache.clear()
        self._key_cache[digest] = (now + self.api_key_cache_seconds, found)
        return found


def unauthorized(detail: str) -> ProblemError:
    return ProblemError(401, detail, headers={"WWW-Authenticate": 'Bearer realm="surge"'})


_bearer = HTTPBearer(auto_error=False, description="JWT with a `roles` claim")
_api_key = APIKeyHeader(
    name="X-Api-Key", auto_error=False, description="Channel or carrier API key"
)


async def authenticate(
    request: Request, credentials: HTTPAuthorizationCredentials | None, api_key: str | None
) -> Principal:
    auth: Authenticator = request.app.state.authenticator
    if credentials is not None and credentials.scheme.lower() == "bearer":
        return auth.verify_token(credentials.credentials)
    if api_key:
        found = await auth.verify_api_key(api_key)
        if found is None:
            raise unauthorized("The API key is not valid.")
        role = Role.CHANNEL if found.kind == "channel" else Role.CARRIER
        return Principal(subject=found.name, roles=frozenset({role}), kind=found.kind)
    raise unauthorized("Authentication is required.")


def allow(
    *roles: Role, then: Callable[[Request], None] | None = None
) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits principals holding one of `roles`, then rate-limits them, then
    runs `then` (a cheap check that must come before the body is read, such as admission).

    One dependency, which calls the two security schemes itself: FastAPI re-derives cache
    keys, scopes and kinds for every dependency in a route's tree on every request, and
    solving the accept route's seven was about a third of its CPU (cProfile, bench/
    gateway_app.py), so authentication, the schemes and the checks after it are not separate
    ones. `document_security` lists the schemes in the OpenAPI document as FastAPI did when
    they were sub-dependencies.
    """
    allowed = frozenset(roles)

    async def dependency(request: Request) -> Principal:
        principal = await authenticate(request, await _bearer(request), await _api_key(request))
        if not principal.roles & allowed:
            raise ProblemError(403, "Your role may not do this.")
        await request.app.state.rate_limiter.check(request, principal)
        request.state.principal = principal
        if then is not None:
            then(request)
        return principal

    dependency.__name__ = "allow_" + "_".join(sorted(r.value for r in allowed))
    if then is not None:
        dependency.__name__ += "_then_" + then.__name__
    setattr(dependency, _GUARD, True)
    return dependency


_GUARD = "_surge_authenticates"
_SCHEMES = (_bearer, _api_key)


def _guarded(dependant: Dependant) -> bool:
    return getattr(dependant.call, _GUARD, False) or any(
        _guarded(sub) for sub in dependant.dependencies
    )


def api_routes(routes: Iterable[Any]) -> Iterator[APIRoute]:
    """Every APIRoute in `routes`, those of included routers too."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)  # FastAPI >= 0.160 wraps routers
        if included is not None:
            yield from api_routes(included.routes)


def document_security(app: FastAPI) -> None:
    """Make `app.openapi()` list the security schemes `allow` reads on each operation it
    guards, as FastAPI did when they were sub-dependencies: operation `security`, and
    `components.securitySchemes`. Operations are matched by id (the route's `unique_id`)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        cached = app.openapi_schema
        schema = generate()
        if schema is cached:  # patched when it was generated
            return schema
        guarded = {r.unique_id for r in api_routes(app.routes) if _guarded(r.dependant)}
        operations = [op for item in schema.get("paths", {}).values() for op in item.values()]
        for operation in operations:
            if operation.get("operationId") in guarded:
                operation.setdefault("security", []).extend(
                    {scheme.scheme_name: []} for scheme in _SCHEMES
                )
        if guarded:
            schema.setdefault("components", {}).setdefault("securitySchemes", {}).update(
                {
                    scheme.scheme_name: jsonable_encoder(
                        scheme.model, by_alias=True, exclude_none=True
                    )
                    for scheme in _SCHEMES
                }
            )
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


CurrentUser = Annotated[Principal, Depends(allow(*USER_ROLES))]
Staff = Annotated[Principal, Depends(allow(Role.OPERATOR, Role.FINANCE, Role.ADMIN))]
Operator = Annotated[Principal, Depends(allow(Role.OPERATOR, Role.ADMIN))]
Finance = Annotated[Principal, Depends(allow(Role.FINANCE, Role.ADMIN))]
PURCHASERS = (Role.CUSTOMER, Role.OPERATOR, Role.ADMIN)  # who may place orders
Purchaser = Annotated[Principal, Depends(allow(*PURCHASERS))]
Payer = Annotated[Principal, Depends(allow(Role.CUSTOMER, Role.FINANCE, Role.ADMIN))]
Canceller = Annotated[Principal, Depends(allow(Role.CUSTOMER, Role.OPERATOR, Role.ADMIN))]
ShipmentReader = Annotated[Principal, Depends(allow(*USER_ROLES, Role.CARRIER))]
Shipper = Annotated[Principal, Depends(allow(Role.OPERATOR, Role.ADMIN, Role.CARRIER))]
InvoiceReader = Annotated[Principal, Depends(allow(Role.CUSTOMER, Role.FINANCE, Role.ADMIN))]
Channel = Annotated[Principal, Depends(allow(Role.CHANNEL))]
