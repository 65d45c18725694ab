"""Staff PINs: salted scrypt hashes that central makes and the tablet checks offline.

Format (one ASCII string, so it travels in a `staff` change as is):

    scrypt$<n>$<r>$<p>$<salt_b64>$<hash_b64>

with `hashlib.scrypt(pin, salt=salt, n=2**14, r=8, p=1, dklen=32)`, a 16-byte
salt, and standard base64. Pure: the salt is an argument (central passes
`secrets.token_bytes(16)`), so hashing is repeatable in tests.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

__all__ = [
    "MANAGER_PIN_MIN",
    "PIN_N",
    "PIN_P",
    "PIN_R",
    "SALT_BYTES",
    "hash_pin",
    "pin_problem",
    "verify_pin",
]

PIN_N = 2**14
PIN_R = 8
PIN_P = 1
SALT_BYTES = 16
_DKLEN = 32
_MAX_N = 2**20  # refuse absurd cost parameters from a bad hash string

# A manager's PIN unlocks approvals, overrides and other people's lockouts: 6 digits at
# least (10^6 guesses offline), where an associate's may have 4 (docs/security.md).
MANAGER_PIN_MIN = 6


def _scrypt(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        pin.encode("utf-8"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        dklen=_DKLEN,
        maxmem=128 * r * n * p + 1024 * 1024 * 2,
    )


def hash_pin(pin: str, salt: bytes) -> str:
    """The stored form of `pin` with `salt` (16 random bytes made by the caller)."""
    if len(salt) != SALT_BYTES:
        raise ValueError(f"salt must be {SALT_BYTES} bytes, got {len(salt)}")
    digest = _scrypt(pin, salt, PIN_N, PIN_R, PIN_P)
    b64 = base64.b64encode
    return f"scrypt${PIN_N}${PIN_R}${PIN_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_pin(pin: str, encoded: str | None) -> bool:
    """True when `pin` matches `encoded`; False for a wrong PIN or a malformed hash."""
    if not encoded or not pin:
        return False
    parts = encoded.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return False
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt = base64.b64decode(parts[4], validate=True)
        expected = base64.b64decode(parts[5], validate=True)
    except (ValueError, binascii.Error):
        return False
    if not (1 < n <= _MAX_N and n & (n - 1) == 0 and 0 < r <= 32 and 0 < p <= 4 and expected):
        return False
    try:
        actual = _scrypt(pin, salt, n, r, p)
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(actual, expected)


def pin_problem(role: str, pin: str) -> str | None:
    """Why `pin` may not be the PIN of someone with `role`, in words; None when it may."""
    if role == "manager" and len(pin) < MANAGER_PIN_MIN:
        return f"a manager's PIN needs at least {MANAGER_PIN_MIN} digits"
    return None
