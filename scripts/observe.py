"""`make observe`: a local Prometheus scraping the stack that `make up` runs.

    python scripts/observe.py up       start Prometheus (Debian's `prometheus`) on 127.0.0.1
    python scripts/observe.py down     stop it
    python scripts/observe.py config   print the generated prometheus.yml

Prometheus listens on 127.0.0.1:9090 (override with SURGE_DEV_PROMETHEUS_PORT), keeps its data
under `.surge/prometheus/`, scrapes every service every 5 s with the job names the dashboards
and rules expect (`surge-order`, ..., `surge-gateway`) and loads deploy/prometheus/*.yaml, so the
dashboards' queries and the alerts can be tried by hand at http://127.0.0.1:9090.
The ports come from scripts/devstack.py (SURGE_DEV_<NAME>_PORT overrides apply here too).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from devstack import ROOT, SERVICES, STATE, pid_alive, ports

HOME = STATE / "prometheus"
PID = HOME / "prometheus.pid"
LOG = STATE / "logs" / "prometheus.log"
RULES = ROOT / "deploy" / "prometheus"


def listen_port() -> int:
    return int(os.environ.get("SURGE_DEV_PROMETHEUS_PORT", "9090"))


def targets() -> dict[str, str]:
    """Scrape job -> host:port, the same ports `make up` gives the services."""
    p = ports()
    found = {f"surge-{name}": f"127.0.0.1:{p[name + '_metrics']}" for name in SERVICES}
    found["surge-gateway"] = f"127.0.0.1:{p['gateway']}"
    return found


def config() -> str:
    # JSON is YAML: no templating library needed.
    document = {
        "global": {"scrape_interval": "5s", "evaluation_interval": "5s"},
        "rule_files": [str(path) for path in sorted(RULES.glob("*.yaml"))],
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": [target]}]}
            for job, target in targets().items()
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=1) as reply:
            return bool(reply.status == 200)
    except OSError:
        return False


def up() -> None:
    port = listen_port()
    if pid_alive(PID):
        sys.stdout.write(f"Prometheus already running: http://127.0.0.1:{port}\n")
        return
    subprocess.run(["bash", str(ROOT / "scripts" / "promtool.sh"), "--install-only"], check=True)
    (HOME / "data").mkdir(parents=True, exist_ok=True)
    LOG.parent.mkdir(parents=True, exist_ok=True)
    config_path = HOME / "prometheus.yml"
    config_path.write_text(config())
    with open(LOG, "ab") as log:
        process = subprocess.Popen(
            [
                "prometheus",
                f"--config.file={config_path}",
                f"--storage.tsdb.path={HOME / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=2d",
                "--web.enable-lifecycle",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    PID.write_text(str(process.pid))
    deadline = time.monotonic() + 30
    while not ready(port):
        if process.poll() is not None or time.monotonic() > deadline:
            sys.stderr.write(f"error: Prometheus did not start; see {LOG}\n")
            raise SystemExit(1)
        time.sleep(0.2)
    sys.stdout.write(
        f"Prometheus: http://127.0.0.1:{port} (targets: /targets, alerts: /alerts)\n"
        f"  scraping {', '.join(targets())}\n"
        f"  data in {HOME}, log in {LOG}; stop with: python scripts/observe.py down\n"
        "  try: sum by (channel) (rate(surge_order_orders_placed_total[1m]))\n"
    )


def down() -> None:
    pid = pid_alive(PID)
    if pid is None:
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while pid_alive(PID) and time.monotonic() < deadline:
        time.sleep(0.1)
    if pid_alive(PID):
        os.kill(pid, signal.SIGKILL)
    PID.unlink(missing_ok=True)
    sys.stdout.write("Prometheus stopped\n")


def main() -> None:
    parser = argparse.ArgumentParser(description="A local Prometheus for the `make up` stack")
    parser.add_argument("command", choices=["up", "down", "config"], nargs="?", default="up")
    command = parser.parse_args().command
    if command == "up":
        up()
    elif command == "down":
        down()
    else:
        sys.stdout.write(config())


if __name__ == "__main__":
    main()
