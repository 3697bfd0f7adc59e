"""Which syslog facility a line belongs to, when the line itself does not say.

A ``<PRI>`` gives the facility exactly, but the files on disk (``/var/log/auth.log``,
``/var/log/secure``, ``/var/log/messages``, journalctl exports) carry none. There
the facility is the one the program logs with, as the programs themselves open
syslog:

- PAM modules log with ``authpriv``, whatever program loaded them: a message that
  starts ``pam_unix(sshd:auth):`` and the old Linux-PAM tag ``sshd(pam_unix)`` are
  ``authpriv`` (this is why ``CRON``'s session lines land in auth.log);
- OpenSSH logs with ``auth`` by default (``SyslogFacility AUTH``; RHEL's sshd_config
  sets ``AUTHPRIV``, which the line cannot show: both are Linux logon facilities);
- sudo, polkit, pkexec and unix_chkpwd use ``authpriv``; su, the shadow tools
  (passwd, useradd, ...) and systemd-logind use ``auth``; cron, mail, kernel and
  daemons have their own.

A program the table does not know gets the facility its file's name implies
(``auth.log`` -> auth, ``secure`` -> authpriv, ``kern.log`` -> kern), else none.

Example:
    >>> facility_of_program("sshd(pam_unix)", "authentication failure; user=root")
    'authpriv'
    >>> facility_of_program("postfix/smtpd", "connect from unknown[192.0.2.7]")
    'mail'
    >>> program_name("/USR/SBIN/CRON")
    'CRON'
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

FACILITIES = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "audit",
    "alert",
    "clock",
] + [f"local{i}" for i in range(8)]
SEVERITIES = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]

_BY_FACILITY = {
    "auth": [
        # OpenSSH (>= 9.8 logs sessions as sshd-session, >= 10.0 authentication as sshd-auth)
        "sshd", "sshd-session", "sshd-auth",
        "su", "runuser", "systemd-logind",
        # shadow-utils
        "passwd", "chpasswd", "chage", "chfn", "chsh", "gpasswd", "newgrp", "newusers",
        "useradd", "usermod", "userdel", "groupadd", "groupmod", "groupdel",
    ],
    "authpriv": [
        "login", "sudo", "doas", "pkexec", "polkitd", "polkit-agent-helper-1", "unix_chkpwd",
        "gdm-password", "gdm-autologin", "gdm-fingerprint", "gdm-smartcard",
    ],
    "cron": ["cron", "crond", "anacron", "crontab"],
    "kern": ["kernel"],
    "mail": [
        "postfix", "sendmail", "sm-mta", "sm-msp-queue", "dovecot", "exim", "exim4",
        "opendkim", "opendmarc", "amavis", "amavisd", "spamd", "postgrey",
    ],
    "daemon": [
        "systemd", "systemd-networkd", "systemd-resolved", "systemd-timesyncd", "systemd-udevd",
        "networkmanager", "dhclient", "dhcpd", "named", "chronyd", "ntpd", "avahi-daemon",
        "snapd", "containerd", "dockerd", "auditd",
    ],
    "syslog": ["rsyslogd", "syslogd", "syslog-ng", "systemd-journald"],
    "ftp": ["vsftpd"],
    "user": ["logger"],
}  # fmt: skip
PROGRAM_FACILITY: dict[str, str] = {
    program: facility for facility, programs in _BY_FACILITY.items() for program in programs
}
PAM = "PAM module messages"
# "pam_unix(sshd:auth): ...", "pam_systemd(sshd:session): ...", "pam_sss(sudo:auth): ..."
_PAM_MESSAGE = re.compile(r"^pam_[A-Za-z0-9_]+\(")
_FILE_FACILITY = {
    "auth": "auth",
    "secure": "authpriv",
    "kern": "kern",
    "mail": "mail",
    "maillog": "mail",
    "cron": "cron",
    "daemon": "daemon",
    "user": "user",
}


def facility_of_pri(pri: int) -> tuple[str, str]:
    """(facility, severity) of a syslog priority 0-191.

    >>> facility_of_pri(86)
    ('authpriv', 'info')
    """
    return FACILITIES[pri >> 3], SEVERITIES[pri & 7]


@functools.lru_cache(maxsize=4096)
def program_name(tag: str) -> str:
    """The program a tag names: ``sshd(pam_unix)`` -> ``sshd``.

    A path keeps its last part (old Debian logged ``/USR/SBIN/CRON``); otherwise what
    follows a ``/`` (``postfix/smtpd``) or a ``(`` (``polkitd(authority=local)``) and a
    trailing ``]`` (``gdm-password]``) are dropped.

    >>> program_name("postfix/smtpd"), program_name("gdm-password]")
    ('postfix', 'gdm-password')
    """
    name = tag.rstrip("]")
    name = name.rsplit("/", 1)[-1] if name.startswith("/") else name.split("/", 1)[0]
    return name.split("(", 1)[0]


def is_pam_message(tag: str | None, message: str) -> bool:
    """True for a line a PAM module wrote (its facility is authpriv)."""
    return bool(_PAM_MESSAGE.match(message)) or (tag is not None and "(pam_" in tag)


def facility_of_program(tag: str | None, message: str) -> str | None:
    """The facility a line without <PRI> was logged with, from its tag; None if unknown."""
    if is_pam_message(tag, message):
        return "authpriv"
    return None if tag is None else facility_of_tag(tag)


@functools.lru_cache(maxsize=4096)  # a log has few distinct tags and many lines
def facility_of_tag(tag: str) -> str | None:
    """The facility the program of `tag` logs its own (non-PAM) messages with.

    >>> facility_of_tag("CRON"), facility_of_tag("frobd")
    ('cron', None)
    """
    program = program_name(tag).lower()  # CRON, NetworkManager
    if program.startswith("postfix"):  # postfix-submission/smtpd, postfix@-/qmgr, ...
        return "mail"
    return PROGRAM_FACILITY.get(program)


def facility_from_file_name(path: Path) -> str | None:
    """The facility a file's name implies: ``auth.log.1`` -> auth, ``secure-20261201`` -> authpriv.

    >>> facility_from_file_name(Path("/evidence/secure-20261201"))
    'authpriv'
    """
    stem = path.name.lower().split(".")[0]
    stem = re.sub(r"-\d{8}$", "", stem)  # logrotate's dateext suffix
    return _FILE_FACILITY.get(stem)
