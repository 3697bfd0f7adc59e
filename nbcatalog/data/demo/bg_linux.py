"""Background Linux syslog: cron, admins' SSH sessions and sudo, systemd, internet noise.

Messages use the real formats of OpenSSH, pam_unix, sudo, cron and systemd, so
parsers written for real auth.log lines (and msticpy's Linux queries) work on them.
Admins reach the servers through LNX-JUMP01; bob has a shell account there too.
LNX-WEB01 and LNX-JUMP01 face the internet and collect the usual scanner noise.

Example:
    >>> import pandas as pd
    >>> from nbcatalog.data.demo.timeline import Window
    >>> w = Window.ending(pd.Timestamp("2026-01-10T12:00:00Z"))
    >>> f = pd.concat(list(syslog_frames(1, w, 0.2)))
    >>> sorted(f["Facility"].unique())
    ['auth', 'authpriv', 'cron', 'daemon']
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from nbcatalog.data.demo.estate import ADMINS, HOSTS_BY_NAME, USERS_BY_NAME, noise_ips
from nbcatalog.data.demo.syslogrows import syslog_frame
from nbcatalog.data.demo.textcols import cat, pick
from nbcatalog.data.demo.timeline import Window, sample_times, stream

LINUX = ["LNX-WEB01", "LNX-DB01", "LNX-JUMP01"]
EXPOSED = ["LNX-WEB01", "LNX-JUMP01"]
SERVICE_UIDS = {"root": 0, "www-data": 33, "postgres": 114, "deploy": 1001}
# (host, user, command, period in minutes)
CRON_JOBS = [
    ("LNX-WEB01", "root", "   cd / && run-parts --report /etc/cron.hourly", 60),
    ("LNX-DB01", "root", "   cd / && run-parts --report /etc/cron.hourly", 60),
    ("LNX-JUMP01", "root", "   cd / && run-parts --report /etc/cron.hourly", 60),
    (
        "LNX-WEB01",
        "www-data",
        "/usr/bin/php /var/www/app/artisan schedule:run >> /dev/null 2>&1",
        10,
    ),
    ("LNX-DB01", "postgres", "/usr/local/bin/pg_backup.sh --incremental", 240),
    ("LNX-WEB01", "root", "test -x /usr/sbin/certbot && certbot -q renew", 720),
]
SUDO_COMMANDS = {
    "LNX-WEB01": [
        "/usr/bin/systemctl reload nginx",
        "/usr/bin/tail -n 200 /var/log/nginx/error.log",
        "/usr/bin/apt-get upgrade -y",
    ],
    "LNX-DB01": [
        "/usr/bin/systemctl status postgresql",
        "/usr/bin/du -sh /var/lib/postgresql",
        "/usr/bin/journalctl -u postgresql --since today",
    ],
    "LNX-JUMP01": ["/usr/bin/apt-get update", "/usr/sbin/ufw status verbose"],
}
SYSTEMD_LINES = [
    "Started Daily apt download activities.",
    "Starting Daily apt upgrade and clean activities...",
    "Finished Daily apt upgrade and clean activities.",
    "Starting Rotate log files...",
    "Finished Rotate log files.",
    "Started Clean php session files.",
    "Starting Cleanup of Temporary Directories...",
    "Finished Cleanup of Temporary Directories.",
]
SCANNER_USERS = "admin test oracle ubuntu git user pi guest ftpuser hadoop minecraft".split()
BASE = {"ssh_sessions": 300, "sudo": 350, "systemd": 900, "noise": 1500}


def linux_uid(user: str) -> int:
    """The Linux uid of a person or service account of the estate."""
    if user in SERVICE_UIDS:
        return SERVICE_UIDS[user]
    return USERS_BY_NAME[user].uid


def _pids(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(1200, 65000, n)


def _cron(window: Window, scale: float, rng: np.random.Generator) -> Iterator[pd.DataFrame]:
    for host, user, command, period in CRON_JOBS:
        step = pd.Timedelta(minutes=period / scale)
        first = window.start.ceil(f"{period}min") if scale == 1 else window.start + step
        times = pd.date_range(first, window.end - pd.Timedelta(seconds=2), freq=step)
        n = len(times)
        if not n:
            continue
        pid = _pids(rng, n)
        uid = linux_uid(user)
        opened = f"pam_unix(cron:session): session opened for user {user}(uid={uid}) by (uid=0)"
        closed = f"pam_unix(cron:session): session closed for user {user}"
        msgs = [opened, f"({user}) CMD ({command})", closed]
        for k, (fac, msg) in enumerate(zip(("authpriv", "cron", "authpriv"), msgs, strict=True)):
            t = times + pd.Timedelta(milliseconds=5 * k + 1000 * (k == 2))
            yield syslog_frame(t, host, fac, "info", "CRON", pid, np.full(n, msg, dtype=object))


def _ssh_sessions(window: Window, scale: float, rng: np.random.Generator) -> pd.DataFrame:
    """Admins (and bob) logging on with keys: jump host first, then the servers."""
    n = max(1, int(BASE["ssh_sessions"] * scale))
    people = [*ADMINS, "bob"]
    user = pick(rng, people, n)
    to_jump = rng.random(n) < 0.55
    host = np.where(to_jump, "LNX-JUMP01", pick(rng, ["LNX-WEB01", "LNX-DB01"], n)).astype(object)
    user[(host != "LNX-JUMP01") & (user == "bob")] = "dave"  # bob only has the jump host
    home = rng.random(n) < 0.2
    src = np.array(
        [
            USERS_BY_NAME[u].home_ip
            if (h == "LNX-JUMP01" and away)
            else (HOSTS_BY_NAME[USERS_BY_NAME[u].workstation].ip if h == "LNX-JUMP01" else None)
            for u, h, away in zip(user, host, home, strict=True)
        ],
        dtype=object,
    )
    src[host != "LNX-JUMP01"] = HOSTS_BY_NAME["LNX-JUMP01"].ip
    start = sample_times(rng, n, window, "office").asi8
    length = (rng.exponential(25 * 60, n) + 20) * 1e9
    end = start + length.astype("int64")
    port = rng.integers(40000, 65000, n)
    pid = _pids(rng, n)
    session = rng.integers(1000, 9000, n)
    uid = np.array([linux_uid(u) for u in user])
    fp = pick(
        rng,
        [
            "SHA256:q3Jx0m1f5wQeV1bq8yVQ2w3o4R7Kx2p5fJ8tLw9nM0c",
            "SHA256:Zt9e7cXb2Vh4Qm6Lp1Ns8Yk3Rw5Jd0Gf7Ua2Ei4Oo9s",
        ],
        n,
    )
    frames = []

    def add(t, fac, proc, p, msg):
        keep = (t < window.end.value) & (t >= window.start.value)
        frames.append(
            syslog_frame(
                t[keep], host[keep], fac, "info", proc, p[keep], msg.filter(pa.array(keep))
            )
        )

    add(
        start,
        "auth",
        "sshd",
        pid,
        cat("Accepted publickey for ", user, " from ", src, " port ", port, " ssh2: ED25519 ", fp),
    )
    add(
        start + 2_000_000,
        "authpriv",
        "sshd",
        pid,
        cat("pam_unix(sshd:session): session opened for user ", user, "(uid=", uid, ") by (uid=0)"),
    )
    add(
        start + 9_000_000,
        "authpriv",
        "systemd-logind",
        np.full(n, 612),
        cat("New session ", session, " of user ", user, "."),
    )
    add(
        end,
        "auth",
        "sshd",
        pid,
        cat("Received disconnect from ", src, " port ", port, ":11: disconnected by user"),
    )
    add(
        end + 1_000_000,
        "auth",
        "sshd",
        pid,
        cat("Disconnected from user ", user, " ", src, " port ", port),
    )
    add(
        end + 3_000_000,
        "authpriv",
        "sshd",
        pid,
        cat("pam_unix(sshd:session): session closed for user ", user),
    )
    add(
        end + 9_000_000,
        "authpriv",
        "systemd-logind",
        np.full(n, 612),
        cat("Removed session ", session, "."),
    )
    return pd.concat(frames, ignore_index=True)


def _sudo(window: Window, scale: float, rng: np.random.Generator) -> pd.DataFrame:
    n = max(1, int(BASE["sudo"] * scale))
    host = pick(rng, LINUX, n)
    user = pick(rng, list(ADMINS), n)
    command = np.array(
        [
            SUDO_COMMANDS[h][i % len(SUDO_COMMANDS[h])]
            for h, i in zip(host, rng.integers(0, 99, n), strict=True)
        ],
        dtype=object,
    )
    t = sample_times(rng, n, window, "office")
    pid = _pids(rng, n)
    uid = np.array([linux_uid(u) for u in user])
    first = syslog_frame(
        t,
        host,
        "authpriv",
        "notice",
        "sudo",
        pid,
        cat("    ", user, " : TTY=pts/0 ; PWD=/home/", user, " ; USER=root ; COMMAND=", command),
    )
    second = syslog_frame(
        t + pd.Timedelta(milliseconds=3),
        host,
        "authpriv",
        "info",
        "sudo",
        pid,
        cat(
            "pam_unix(sudo:session): session opened for user root(uid=0) by ",
            user,
            "(uid=",
            uid,
            ")",
        ),
    )
    return pd.concat([first, second], ignore_index=True)


def _systemd(window: Window, scale: float, rng: np.random.Generator) -> pd.DataFrame:
    n = max(1, int(BASE["systemd"] * scale))
    return syslog_frame(
        sample_times(rng, n, window, "flat"),
        pick(rng, LINUX, n),
        "daemon",
        "info",
        "systemd",
        np.ones(n, dtype="int32"),
        pick(rng, SYSTEMD_LINES, n),
    )


def _noise(window: Window, scale: float, rng: np.random.Generator) -> pd.DataFrame:
    """Internet scanners knocking on the exposed SSH daemons (ordinary public addresses)."""
    n = max(1, int(BASE["noise"] * scale))
    host = pick(rng, EXPOSED, n)
    ip = pick(rng, noise_ips(), n)
    user = pick(rng, SCANNER_USERS, n)
    port = rng.integers(30000, 65000, n)
    pid = _pids(rng, n)
    t = sample_times(rng, n, window, "flat")
    kind = rng.integers(0, 3, n)
    msg = pc.if_else(
        pa.array(kind == 0),
        cat("Invalid user ", user, " from ", ip, " port ", port),
        pc.if_else(
            pa.array(kind == 1),
            cat("Connection closed by ", ip, " port ", port, " [preauth]"),
            cat("Received disconnect from ", ip, " port ", port, ":11: Bye Bye [preauth]"),
        ),
    )
    frames = [syslog_frame(t, host, "auth", "info", "sshd", pid, msg)]
    inv = kind == 0
    frames.append(
        syslog_frame(
            t[inv] + pd.Timedelta(seconds=2),
            host[inv],
            "auth",
            "info",
            "sshd",
            pid[inv],
            cat(
                "Connection closed by invalid user ",
                user[inv],
                " ",
                ip[inv],
                " port ",
                port[inv],
                " [preauth]",
            ),
        )
    )
    return pd.concat(frames, ignore_index=True)


def syslog_frames(seed: int, window: Window, scale: float = 1.0) -> Iterator[pd.DataFrame]:
    """Background Syslog rows for the three Linux hosts."""
    rng = stream(seed, "Syslog")
    yield from _cron(window, scale, rng)
    yield _ssh_sessions(window, scale, rng)
    yield _sudo(window, scale, rng)
    yield _systemd(window, scale, rng)
    yield _noise(window, scale, rng)
