"""Encryption of everything stored in a repository: AES-256-GCM with a random master key wrapped by a password key.

The password is stretched with scrypt; the master key never changes, so changing the password only rewraps it.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from console.core.errors import CorruptDataError, WrongPasswordError

NONCE_SIZE = 12
TAG_SIZE = 16
SCRYPT_N, SCRYPT_R, SCRYPT_P = 1 << 15, 8, 1


class Cipher:
    """No encryption: sealing is the identity. Subclasses encrypt."""

    encrypted = False
    overhead = 0

    def seal(self, plaintext: bytes, aad: bytes = b"") -> bytes:
        return plaintext

    def open(self, data: bytes, aad: bytes = b"") -> bytes:
        return data


class AesGcmCipher(Cipher):
    encrypted = True
    overhead = NONCE_SIZE + TAG_SIZE

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("AES-256 needs a 32-byte key")
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, aad: bytes = b"") -> bytes:
        nonce = os.urandom(NONCE_SIZE)
        return nonce + self._aead.encrypt(nonce, plaintext, aad or None)

    def open(self, data: bytes, aad: bytes = b"") -> bytes:
        if len(data) < NONCE_SIZE + TAG_SIZE:
            raise CorruptDataError("encrypted data is truncated")
        try:
            return self._aead.decrypt(data[:NONCE_SIZE], data[NONCE_SIZE:], aad or None)
        except InvalidTag:
            raise CorruptDataError("encrypted data failed authentication (damaged or tampered)") from None


@dataclass
class KeyEnvelope:
    """The wrapped master key as stored in config.json."""

    salt: bytes
    wrapped: bytes
    n: int = SCRYPT_N
    r: int = SCRYPT_R
    p: int = SCRYPT_P

    def to_dict(self) -> dict:
        return {"cipher": "aes-256-gcm", "kdf": "scrypt", "n": self.n, "r": self.r, "p": self.p,
                "salt": base64.b64encode(self.salt).decode(), "key": base64.b64encode(self.wrapped).decode()}

    @classmethod
    def from_dict(cls, d: dict) -> KeyEnvelope:
        try:
            if d.get("cipher") != "aes-256-gcm" or d.get("kdf") != "scrypt":
                raise ValueError("unknown cipher or kdf")
            n, r, p = int(d["n"]), int(d["r"]), int(d["p"])
            # bounded so a hostile config cannot make scrypt eat all memory or time
            # at most 256 MiB and a few seconds, so a hostile config cannot stall or exhaust the machine
            if not (2 <= n <= 1 << 20 and n & (n - 1) == 0 and 1 <= r <= 16 and 1 <= p <= 4
                    and 128 * n * r <= 256 << 20):
                raise ValueError("scrypt parameters out of range")
            return cls(base64.b64decode(d["salt"]), base64.b64decode(d["key"]), n, r, p)
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as e:
            raise CorruptDataError(f"the repository's encryption settings are damaged: {e}") from None


def _password_key(password: str, env: KeyEnvelope) -> bytes:
    kdf = Scrypt(salt=env.salt, length=32, n=env.n, r=env.r, p=env.p)
    return kdf.derive(password.encode())


def new_envelope(password: str) -> tuple[KeyEnvelope, bytes]:
    """A fresh random master key and its envelope wrapped with `password`."""
    master = os.urandom(32)
    env = KeyEnvelope(salt=os.urandom(16), wrapped=b"")
    env.wrapped = AesGcmCipher(_password_key(password, env)).seal(master, b"master-key")
    return env, master


def open_envelope(env: KeyEnvelope, password: str) -> bytes:
    try:
        return AesGcmCipher(_password_key(password, env)).open(env.wrapped, b"master-key")
    except CorruptDataError:
        raise WrongPasswordError("wrong password for this repository") from None


def rewrap(env: KeyEnvelope, old_password: str, new_password: str) -> KeyEnvelope:
    master = open_envelope(env, old_password)
    new = KeyEnvelope(salt=os.urandom(16), wrapped=b"")
    new.wrapped = AesGcmCipher(_password_key(new_password, new)).seal(master, b"master-key")
    return new
