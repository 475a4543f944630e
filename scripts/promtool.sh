#!/usr/bin/env bash
# Check Surge's Prometheus rules and Grafana dashboards offline (the body of `make rules-check`).
#
#   scripts/promtool.sh            install promtool if missing, then run every check below
#   scripts/promtool.sh --sync     first copy deploy/prometheus/*.yaml into the Helm chart and
#                                  regenerate the dashboards (both folders), then check
#   scripts/promtool.sh --install-only   only install promtool and prometheus (make observe)
#
# Checks: `promtool check rules` on every rule file, `promtool test rules` on every unit-test
# file in deploy/prometheus/tests/ (each alert has one), the chart's copies of the rules are
# identical to deploy/prometheus/, and the dashboards JSON matches deploy/grafana/generate.py.
# promtool comes from Debian's `prometheus` package (apt-get; needs root or sudo).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RULES="$ROOT/deploy/prometheus"
CHART_RULES="$ROOT/deploy/helm/surge/files/prometheus"
PYTHON=(python3)
if command -v uv >/dev/null 2>&1; then PYTHON=(uv run --frozen python); fi

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'promtool.sh: %s\n' "$*" >&2; exit 1; }

install_promtool() {
    command -v promtool >/dev/null 2>&1 && return 0
    log "installing promtool (Debian package prometheus)"
    local sudo=()
    [[ "$(id -u)" == 0 ]] || sudo=(sudo -n)
    # The package's postinst would start prometheus on :9090 where a service manager runs;
    # policy-rc.d exit 101 tells invoke-rc.d not to start anything.
    local policy=/usr/sbin/policy-rc.d created_policy=0
    if [[ ! -e "$policy" ]]; then
        printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
        "${sudo[@]}" chmod +x "$policy"
        created_policy=1
    fi
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
        prometheus >/dev/null
    if [[ "$created_policy" == 1 ]]; then "${sudo[@]}" rm -f "$policy"; fi
    command -v promtool >/dev/null 2>&1 || die "promtool not found after installing prometheus"
}

main() {
    local sync=0
    if [[ "${1:-}" == "--sync" ]]; then sync=1; fi
    local start=$SECONDS
    install_promtool
    if [[ "${1:-}" == "--install-only" ]]; then return 0; fi
    cd "$ROOT"
    if [[ "$sync" == 1 ]]; then
        rm -f "$CHART_RULES"/*.yaml
        cp "$RULES"/*.yaml "$CHART_RULES"/
        "${PYTHON[@]}" deploy/grafana/generate.py
    fi
    local rule_files=("$RULES"/*.yaml)
    promtool check rules "${rule_files[@]}"
    promtool test rules "$RULES"/tests/*.yaml
    local a b
    a="$(cd "$RULES" && ls ./*.yaml)"
    b="$(cd "$CHART_RULES" && ls ./*.yaml)"
    [[ "$a" == "$b" ]] || die "chart rule files differ from deploy/prometheus (run: $0 --sync)"
    for f in "${rule_files[@]}"; do
        cmp -s "$f" "$CHART_RULES/$(basename "$f")" ||
            die "$CHART_RULES/$(basename "$f") differs from deploy/prometheus (run: $0 --sync)"
    done
    "${PYTHON[@]}" deploy/grafana/generate.py --check
    log "rules and dashboards OK in $((SECONDS - start)) s"
}

main "$@"
