# syntax=docker/dockerfile:1
# One image for every Surge service; the container command picks the service and the mode:
#   surge-<order|inventory|fulfillment|billing|gateway> serve [--role all|api|consumer|relay]
#   surge-<name> migrate
# No HEALTHCHECK: Kubernetes probes (gRPC health / HTTP /healthz, /readyz) check the pods.
#
# Base pinned by digest. The digest was taken from public references without a registry at hand:
# verify and refresh it with `docker buildx imagetools inspect python:3.11-slim-bookworm` before the
# first release build, then on every base image update.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:2e32f7d302adc1c37428355c1e646897c0c53f4fd60b6a551245fb90ee129f91

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /src

# Third-party dependencies first, from the lockfile only, so code changes reuse this layer.
COPY pyproject.toml uv.lock ./
COPY libs/platform/pyproject.toml libs/platform/
COPY libs/contracts/pyproject.toml libs/contracts/
COPY services/order/pyproject.toml services/order/
COPY services/inventory/pyproject.toml services/inventory/
COPY services/fulfillment/pyproject.toml services/fulfillment/
COPY services/billing/pyproject.toml services/billing/
COPY services/gateway/pyproject.toml services/gateway/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --no-install-workspace

# Then the workspace packages themselves, installed as wheels (no editable links to /src).
COPY libs/ libs/
COPY services/ services/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable

FROM ${PYTHON_IMAGE} AS runtime
# The runtime needs neither pip nor setuptools: remove them with the build tooling.
RUN python -m pip uninstall --yes --quiet pip setuptools wheel \
    && groupadd --system --gid 10001 surge \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin surge
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    VIRTUAL_ENV=/opt/venv \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp
WORKDIR /app
USER 10001:10001
EXPOSE 50051 9090 8080
CMD ["surge-gateway", "serve"]
