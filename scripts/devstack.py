"""The local stack behind `make up`, `make down` and `make status`.

PostgreSQL and NATS come from their PyPI wheels and run as daemons with data under `.surge/`;
the five services run under honcho (the Procfile), not a home-made supervisor. Ports default to
the values below and can be overridden with SURGE_DEV_<NAME>_PORT (e.g. SURGE_DEV_GATEWAY_PORT).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from surge_platform.testing.servers import NatsServer, PostgresServer, port_in_use
from surge_platform.testing.services import grpc_serving

ROOT = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("SURGE_DEV_STATE_DIR", ROOT / ".surge")).resolve()
LOGS = STATE / "logs"
SERVICES = ("inventory", "fulfillment", "billing", "order")
DEFAULT_PORTS = {
    "postgres": 15432,
    "nats": 14222,
    "order": 50051,
    "inventory": 50052,
    "fulfillment": 50053,
    "billing": 50054,
    "gateway": 8080,
}


def ports() -> dict[str, int]:
    found = {
        name: int(os.environ.get(f"SURGE_DEV_{name.upper()}_PORT", default))
        for name, default in DEFAULT_PORTS.items()
    }
    # Prometheus endpoints of the gRPC services: METRICS_BASE + 1..4.
    metrics_base = int(os.environ.get("SURGE_DEV_METRICS_BASE_PORT", 9100))
    for index, name in enumerate(SERVICES, start=1):
        found[f"{name}_metrics"] = metrics_base + index
    return found


def secrets_file() -> dict[str, str]:
    """Local passwords and the dev JWT key live in .surge/ (git-ignored), made once."""
    path = STATE / "secrets.json"
    if path.exists():
        data: dict[str, str] = json.loads(path.read_text())
        return data
    data = {name: secrets.token_urlsafe(18) for name in ("postgres", *SERVICES, "gateway")}
    STATE.mkdir(exist_ok=True)
    path.write_text(json.dumps(data))
    path.chmod(0o600)
    return data


def postgres(p: dict[str, int]) -> PostgresServer:
    return PostgresServer(STATE / "postgres", p["postgres"], secrets_file()["postgres"])


def service_env(p: dict[str, int]) -> dict[str, str]:
    pw = secrets_file()
    pg = postgres(p)
    env: dict[str, str] = {}
    for name in (*SERVICES, "gateway"):
        prefix = f"SURGE_{name.upper()}_"
        env[f"{prefix}DATABASE_URL"] = pg.url(f"surge_{name}", f"surge_{name}", pw[name])
        env[f"{prefix}NATS_URL"] = f"nats://127.0.0.1:{p['nats']}"
        env[f"{prefix}LOG_JSON"] = "true"
        if name == "gateway":
            env[f"{prefix}HTTP_HOST"] = "127.0.0.1"
            env[f"{prefix}HTTP_PORT"] = str(p["gateway"])
            for target in SERVICES:
                env[f"{prefix}{target.upper()}_ADDR"] = f"127.0.0.1:{p[target]}"
            env[f"{prefix}JWT_PUBLIC_KEY_FILE"] = str(STATE / "jwt-public.pem")
        else:
            env[f"{prefix}GRPC_HOST"] = "127.0.0.1"
            env[f"{prefix}GRPC_PORT"] = str(p[name])
            env[f"{prefix}METRICS_PORT"] = str(p[f"{name}_metrics"])
    env["SURGE_ORDER_INVENTORY_ADDR"] = f"127.0.0.1:{p['inventory']}"
    return env


def pid_alive(path: Path) -> int | None:
    try:
        pid = int(path.read_text())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None
    return pid


def fail(message: str) -> None:
    sys.stderr.write(f"error: {message}\n")
    raise SystemExit(1)


def ensure_databases(pg: PostgresServer) -> None:
    pw = secrets_file()
    for name in (*SERVICES, "gateway"):
        role = f"surge_{name}"
        exists = pg.psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{role}'").strip()
        if not exists:
            pg.psql(f"CREATE ROLE {role} LOGIN PASSWORD '{pw[name]}'")
        if not pg.psql(f"SELECT 1 FROM pg_database WHERE datname = '{role}'").strip():
            pg.psql(f"CREATE DATABASE {role} OWNER {role}")
        # A service's role may connect to its own database only.
        pg.psql(f"REVOKE ALL ON DATABASE {role} FROM PUBLIC")


def run_cli(name: str, args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(
        [f"surge-{name}", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        fail(f"surge-{name} {' '.join(args)} failed:\n{done.stderr[-3000:]}")


def healthy(p: dict[str, int]) -> dict[str, bool]:
    status = {name: grpc_serving(f"127.0.0.1:{p[name]}") for name in SERVICES}
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{p['gateway']}/readyz", timeout=1) as reply:
            status["gateway"] = reply.status == 200
    except OSError:
        status["gateway"] = False
    return status


def up() -> None:
    started = time.monotonic()
    p = ports()
    honcho_pid = STATE / "honcho.pid"
    if pid_alive(honcho_pid):
        print(f"Surge is already running: http://127.0.0.1:{p['gateway']} (make down to stop)")
        return
    for name, port in p.items():
        if port_in_use(port):
            variable = (
                "SURGE_DEV_METRICS_BASE_PORT"
                if name.endswith("_metrics")
                else f"SURGE_DEV_{name.upper()}_PORT"
            )
            fail(f"port {port} ({name}) is already in use; set {variable}")
    LOGS.mkdir(parents=True, exist_ok=True)
    pg = postgres(p)
    pg.start()
    ensure_databases(pg)
    nats = NatsServer(STATE / "nats", p["nats"])
    nats.start(log=LOGS / "nats.log")
    assert nats.process is not None
    (STATE / "nats.pid").write_text(str(nats.process.pid))
    env = service_env(p)
    with ThreadPoolExecutor() as pool:
        # Each service migrates its own database: nothing to order between them.
        list(pool.map(lambda name: run_cli(name, ["migrate"], env), (*SERVICES, "gateway")))
        list(
            pool.map(
                lambda job: run_cli(job[0], job[1], env),
                [("inventory", ["seed"]), ("gateway", ["keys", "--dir", str(STATE)])],
            )
        )
    env_file = STATE / "services.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    env_file.chmod(0o600)
    with open(LOGS / "services.log", "ab") as log:
        honcho = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "honcho"),
                "-f",
                str(ROOT / "Procfile"),
                "-e",
                str(env_file),
                "-d",
                str(ROOT),
                "start",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    honcho_pid.write_text(str(honcho.pid))
    deadline = time.monotonic() + 90
    while not all((status := healthy(p)).values()):
        if honcho.poll() is not None or time.monotonic() > deadline:
            down(quiet=True)
            fail(f"services did not become healthy ({status}); see {LOGS / 'services.log'}")
        time.sleep(0.2)
    elapsed = time.monotonic() - started
    print(f"Surge is up in {elapsed:.1f}s — all five services SERVING.")
    print(f"  Gateway:  http://127.0.0.1:{p['gateway']}  (API docs: /docs)")
    print("  Token:    make token ROLE=operator SUB=alice")
    print(f"  Logs:     {LOGS}/services.log, {LOGS}/nats.log, {pg.log_file}")
    print("  Status:   make status      Stop: make down")


def down(quiet: bool = False) -> None:
    p = ports()
    pid = pid_alive(STATE / "honcho.pid")
    if pid:
        os.killpg(pid, signal.SIGTERM)
        end = time.monotonic() + 15
        while pid_alive(STATE / "honcho.pid") and time.monotonic() < end:
            time.sleep(0.1)
        if pid_alive(STATE / "honcho.pid"):
            os.killpg(pid, signal.SIGKILL)
    (STATE / "honcho.pid").unlink(missing_ok=True)
    nats_pid = pid_alive(STATE / "nats.pid")
    if nats_pid:
        os.kill(nats_pid, signal.SIGTERM)
        end = time.monotonic() + 10
        while pid_alive(STATE / "nats.pid") and time.monotonic() < end:
            time.sleep(0.1)
    (STATE / "nats.pid").unlink(missing_ok=True)
    postgres(p).stop()
    if not quiet:
        print(f"Surge is down (data kept in {STATE}; delete it for a fresh start).")


def status() -> None:
    p = ports()
    pg = postgres(p)
    print(f"postgres     {'running' if pg.running() else 'stopped'}  127.0.0.1:{p['postgres']}")
    print(
        f"nats         {'running' if port_in_use(p['nats']) else 'stopped'}  127.0.0.1:{p['nats']}"
    )
    for name, ok in healthy(p).items():
        print(f"{name:<12} {'SERVING' if ok else 'down'}  127.0.0.1:{p[name]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status"])
    args = parser.parse_args()
    {"up": up, "down": down, "status": status}[args.command]()


if __name__ == "__main__":
    main()
