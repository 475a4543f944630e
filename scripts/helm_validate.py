"""Strictly validate every object of rendered Helm manifests; fail on any kind without a schema.

Run by scripts/helm_check.sh inside an isolated uvx environment (kubernetes-validate, the
cloudcoil CRD model packages and jsonschema, all pinned there), never in the workspace venv:

    python scripts/helm_validate.py --kubernetes-version 1.37.0 rendered/*.yaml

Built-in kinds are checked with kubernetes-validate's strict schemas (unknown fields rejected).
CRD kinds (KEDA ScaledObject, prometheus-operator ServiceMonitor/PrometheusRule) are checked
against JSON schemas generated from the cloudcoil pydantic models, which are generated from the
projects' published CRDs; every object schema is closed (additionalProperties: false) so unknown
fields fail here too. A kind in neither set is an error, never a warning.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from kubernetes_validate import utils as kv


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")


def _close(schema: Any) -> Any:
    """Return a copy of a JSON schema where every object with properties rejects unknown keys."""
    if isinstance(schema, dict):
        out = {k: _close(v) for k, v in schema.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_close(v) for v in schema]
    return schema


def _crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    from cloudcoil.models.keda.v1alpha1 import ScaledObject
    from cloudcoil.models.prometheus_operator.v1 import PrometheusRule, ServiceMonitor

    models = {
        ("keda.sh/v1alpha1", "ScaledObject"): ScaledObject,
        ("monitoring.coreos.com/v1", "ServiceMonitor"): ServiceMonitor,
        ("monitoring.coreos.com/v1", "PrometheusRule"): PrometheusRule,
    }
    schemas = {}
    for key, model in models.items():
        schema = _close(model.model_json_schema(by_alias=True))
        # Pin apiVersion/kind: the models type them loosely.
        schema["properties"]["apiVersion"] = {"const": key[0]}
        schema["properties"]["kind"] = {"const": key[1]}
        schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind", "spec"})
        schemas[key] = schema
    return schemas


def _name(obj: dict[str, Any]) -> str:
    return f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"


def validate_file(path: Path, version: str, crds: dict[tuple[str, str], dict[str, Any]]) -> int:
    errors = 0
    kinds: Counter[str] = Counter()
    for obj in yaml.safe_load_all(path.read_text()):
        if not obj:
            continue
        key = (obj.get("apiVersion", ""), obj.get("kind", ""))
        kinds[key[1]] += 1
        if key in crds:
            validator = jsonschema.Draft202012Validator(crds[key])
            problems = sorted(validator.iter_errors(obj), key=lambda e: list(e.path))
            for err in problems:
                where = ".".join(str(p) for p in err.path)
                _say(f"ERROR {path}: {_name(obj)} (CRD model): {where}: {err.message}")
            errors += len(problems)
            continue
        try:
            kv.validate(obj, version, strict=True)
        except kv.ValidationError as err:
            where = ".".join(str(p) for p in err.path)
            _say(f"ERROR {path}: {_name(obj)}: {where}: {err.message}")
            errors += 1
        except kv.SchemaNotFoundError as err:
            _say(f"ERROR {path}: {_name(obj)}: no schema: {err.message}")
            errors += 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    status = "FAILED" if errors else "ok"
    _say(f"{status} {path.name}: {sum(kinds.values())} objects ({summary}); {errors} errors")
    return errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kubernetes-version", default="1.37.0")
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    crds = _crd_schemas()
    errors = sum(validate_file(f, args.kubernetes_version, crds) for f in args.files)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
