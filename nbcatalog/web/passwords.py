"""Salted scrypt hashes of passwords and tokens, and their constant-time check.

A stored hash reads ``scrypt$<n>$<r>$<p>$<salt, base64>$<key, base64>``: the cost
is part of the text, so hashes made with other costs keep working. Only hashes
are ever stored (config file, environment); `nbcatalog web password-hash` makes one.

Example:
    >>> stored = hash_secret("correct horse battery staple")
    >>> stored.startswith("scrypt$")
    True
    >>> verify_secret("correct horse battery staple", stored), verify_secret("guess", stored)
    (True, False)
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets

# 16 MiB and about 50 ms a check: slow for a guesser, quick for one login.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
KEY_BYTES = 32
SALT_BYTES = 16
# Costs accepted from a stored hash: high enough to be a hash, low enough not to
# let a bad config line make every login take minutes or all the memory.
_MAX_N = 2**20
_MAX_RP = 64


class HashFormatError(ValueError):
    """A stored hash that is not ``scrypt$n$r$p$salt$key``."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int, dklen: int = KEY_BYTES) -> bytes:
    return hashlib.scrypt(
        secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=256 * 2**20
    )


def hash_secret(secret: str, *, salt: bytes | None = None) -> str:
    """The storable hash of a password or token (a new random salt each call).

    Example:
        >>> hash_secret("s3cret", salt=bytes(16))[:30]
        'scrypt$16384$8$1$AAAAAAAAAAAAA'
    """
    if not isinstance(secret, str) or not secret:
        raise ValueError("an empty password or token cannot be hashed")
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    key = _scrypt(secret, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def parse_hash(stored: str) -> tuple[int, int, int, bytes, bytes]:
    """The (n, r, p, salt, key) of a stored hash; HashFormatError says what is wrong.

    Example:
        >>> parse_hash(hash_secret("x", salt=bytes(16)))[:3]
        (16384, 8, 1)
    """
    parts = str(stored).strip().split("$")
    wanted = "expected 'scrypt$N$R$P$SALT$KEY' as printed by `nbcatalog web password-hash`"
    if len(parts) != 6 or parts[0] != "scrypt":
        raise HashFormatError(f"not a password hash; {wanted}")
    try:
        n, r, p = (int(x) for x in parts[1:4])
        salt = base64.b64decode(parts[4], validate=True)
        key = base64.b64decode(parts[5], validate=True)
    except ValueError:
        raise HashFormatError(
            f"a password hash with unreadable numbers or base64; {wanted}"
        ) from None
    if n < 2 or n > _MAX_N or n & (n - 1) or not 1 <= r <= _MAX_RP or not 1 <= p <= _MAX_RP:
        raise HashFormatError(f"a password hash with costs out of range (n={n}, r={r}, p={p})")
    if len(salt) < 8 or not 16 <= len(key) <= 128:
        raise HashFormatError("a password hash with a salt or key too short to be real")
    return n, r, p, salt, key


def verify_secret(secret: str, stored: str) -> bool:
    """True when `secret` hashes to `stored` (compared in constant time).

    Example:
        >>> verify_secret("a", hash_secret("a"))
        True
    """
    n, r, p, salt, key = parse_hash(stored)
    candidate = _scrypt(secret, salt, n, r, p, dklen=len(key))
    return hmac.compare_digest(candidate, key)


@functools.cache
def _decoy() -> str:
    return hash_secret(secrets.token_urlsafe(16))


def waste_a_check(secret: str) -> None:
    """Spend the time of one check, for a login refused anyway (an unknown user name).

    A wrong name then costs as long as a wrong password: timing does not tell
    which names exist.
    """
    verify_secret(secret, _decoy())


def new_token() -> str:
    """A random login token (32 bytes, URL-safe text).

    Example:
        >>> len(new_token()) >= 40
        True
    """
    return secrets.token_urlsafe(32)
