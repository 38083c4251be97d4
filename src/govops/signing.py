"""Ed25519: the server signs its receipts and audit checkpoints; a member that registered a public key signs its
submissions."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


@lru_cache(maxsize=4)
def server_key(path: Path) -> Ed25519PrivateKey:
    """The server's signing key, made on first use and kept (mode 0600) so receipts stay verifiable."""
    try:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return server_key.__wrapped__(path)  # another process made it first: use that one
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        return key
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ValueError(f"{path} holds no Ed25519 private key")
    return loaded


def public_key_b64(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def key_id(key: Ed25519PrivateKey) -> str:
    return public_key_id(public_key_b64(key))


def public_key_id(public_key: str) -> str:
    """The short id of a base64 Ed25519 public key; ValueError when it is not one."""
    try:
        raw = base64.b64decode(public_key.strip(), validate=True)
    except binascii.Error:
        raise ValueError("not base64") from None
    if len(raw) != 32:
        raise ValueError("not 32 bytes long")
    return hashlib.sha256(raw).hexdigest()[:16]


def sign(key: Ed25519PrivateKey, data: bytes) -> str:
    return base64.b64encode(key.sign(data)).decode()


def verifies(public_key: str, signature: str, data: bytes) -> bool:
    try:
        raw_signature = base64.b64decode(signature.strip(), validate=True)
        Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key)).verify(raw_signature, data)
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True
