"""Transport security for gRPC between the services.

Two modes, chosen by `Settings`:

- **mutual TLS** when `SWARMCAST_TLS_CERT`, `SWARMCAST_TLS_KEY` and `SWARMCAST_TLS_CA` name PEM
  files. A server presents its certificate and *requires* a client certificate signed by the CA;
  a client presents its certificate and verifies the server's against the same CA (and its name:
  the host it dials, or `SWARMCAST_TLS_SERVER_NAME`). Each service's certificate therefore needs
  both the `serverAuth` and `clientAuth` extended key usages (`services/cli/devcerts.py` makes
  such certificates; cert-manager does with `usages: [server auth, client auth]`).
- **plaintext** otherwise, but only on loopback: binding or dialling any other address in
  plaintext raises `InsecureTransportError` unless `SWARMCAST_ALLOW_INSECURE=true`. A stack on
  one machine works out of the box; a deployment either configures TLS or says explicitly that
  its network is trusted.

Files are re-read when they change on disk (size or mtime), so channels opened after a
certificate rotation use the new files; a running server keeps the credentials it started with
(rotate by restarting, which a Kubernetes rollout does one pod at a time).
"""

from __future__ import annotations

import ipaddress
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from services.common.config import Settings


class InsecureTransportError(RuntimeError):
    """Plaintext gRPC was about to leave (or listen beyond) loopback without permission."""


class TlsConfigError(RuntimeError):
    """The configured certificate files are missing, unreadable or do not fit together."""


def split_host_port(addr: str) -> tuple[str, str]:
    """`host:port` → (host, port); understands `[::1]:50051` and a `dns:///` or `ipv4:` prefix."""
    target = addr
    for scheme in ("dns:///", "dns:", "ipv4:", "ipv6:"):
        if target.startswith(scheme):
            target = target[len(scheme) :]
            break
    if target.startswith("["):
        host, _, rest = target[1:].partition("]")
        return host, rest.lstrip(":")
    host, sep, port = target.rpartition(":")
    if not sep:
        return target, ""
    return host, port


def is_loopback_host(host: str) -> bool:
    """True for `localhost` and loopback IP literals (127.0.0.0/8, ::1). Other names are not."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_plaintext_allowed(addr: str, *, allow_insecure: bool, action: str) -> None:
    """Raise `InsecureTransportError` unless plaintext to/on `addr` is acceptable.

    `action` ("bind" or "dial") only shapes the message.
    """
    host, _ = split_host_port(addr)
    if allow_insecure or is_loopback_host(host):
        return
    where = "listen on" if action == "bind" else "connect to"
    raise InsecureTransportError(
        f"refusing to {where} {addr} without TLS: plaintext gRPC is allowed only on loopback. "
        "Configure SWARMCAST_TLS_CERT, SWARMCAST_TLS_KEY and SWARMCAST_TLS_CA (mutual TLS), or set "
        "SWARMCAST_ALLOW_INSECURE=true on a network you trust."
    )


@dataclass(frozen=True)
class TlsMaterial:
    """The PEM bytes of one process's identity and the CA it trusts."""

    certificate_chain: bytes
    private_key: bytes
    root_certificates: bytes
    # Overrides the name checked in the server certificate (grpc.ssl_target_name_override).
    server_name: str = ""

    @classmethod
    def from_pem(
        cls, *, certificate_chain: bytes, private_key: bytes, root_certificates: bytes, server_name: str = ""
    ) -> TlsMaterial:
        """Checks the PEM parses, the key belongs to the certificate and the CA holds certificates."""
        try:
            certs = x509.load_pem_x509_certificates(certificate_chain)
        except ValueError as exc:
            raise TlsConfigError(f"the TLS certificate is not a PEM certificate: {exc}") from exc
        try:
            key = serialization.load_pem_private_key(private_key, password=None)
        except (ValueError, TypeError) as exc:
            raise TlsConfigError(f"the TLS key is not an unencrypted PEM private key: {exc}") from exc
        try:
            x509.load_pem_x509_certificates(root_certificates)
        except ValueError as exc:
            raise TlsConfigError(f"the TLS CA file holds no PEM certificate: {exc}") from exc
        public = serialization.PublicFormat.SubjectPublicKeyInfo
        der = serialization.Encoding.DER
        if certs[0].public_key().public_bytes(der, public) != key.public_key().public_bytes(der, public):
            raise TlsConfigError("the TLS key does not belong to the TLS certificate (first in the chain)")
        return cls(certificate_chain, private_key, root_certificates, server_name)

    def server_credentials(self) -> grpc.ServerCredentials:
        """Server side of mutual TLS: clients without a certificate signed by the CA are refused."""
        return grpc.ssl_server_credentials(
            [(self.private_key, self.certificate_chain)],
            root_certificates=self.root_certificates,
            require_client_auth=True,
        )

    def channel_credentials(self) -> grpc.ChannelCredentials:
        """Client side: present our certificate, verify the server against the CA."""
        return grpc.ssl_channel_credentials(
            root_certificates=self.root_certificates,
            private_key=self.private_key,
            certificate_chain=self.certificate_chain,
        )

    def channel_options(self) -> list[tuple[str, str]]:
        return [("grpc.ssl_target_name_override", self.server_name)] if self.server_name else []


_cache_lock = threading.Lock()
# A file's stamp: (path, mtime_ns, size); a rotated file gets a new one.
Stamp = tuple[str, int, int]
# (cert stamp, key stamp, CA stamp, server name) → material
_cache: dict[tuple[Stamp, Stamp, Stamp, str], TlsMaterial] = {}


def _stamp(path: Path) -> Stamp:
    try:
        st = os.stat(path)
    except OSError as exc:
        raise TlsConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return str(path), st.st_mtime_ns, st.st_size


def load_tls(settings: Settings) -> TlsMaterial | None:
    """The configured TLS material, or None when TLS is off; re-read when a file changes."""
    if not settings.tls_enabled:
        return None
    assert settings.tls_cert is not None and settings.tls_key is not None and settings.tls_ca is not None
    paths = (settings.tls_cert, settings.tls_key, settings.tls_ca)
    key = (_stamp(paths[0]), _stamp(paths[1]), _stamp(paths[2]), settings.tls_server_name)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    try:
        cert, private, ca = (p.read_bytes() for p in paths)
    except OSError as exc:
        raise TlsConfigError(f"cannot read {exc.filename}: {exc.strerror}") from exc
    try:
        material = TlsMaterial.from_pem(
            certificate_chain=cert,
            private_key=private,
            root_certificates=ca,
            server_name=settings.tls_server_name,
        )
    except TlsConfigError as exc:
        files = ", ".join(f"SWARMCAST_TLS_{n}={p}" for n, p in zip(("CERT", "KEY", "CA"), paths, strict=True))
        raise TlsConfigError(f"{exc} ({files})") from exc
    with _cache_lock:
        # Older versions of rotated files are of no further use.
        for stale in [k for k in _cache if k[:3] != key[:3] and k[0][0] == key[0][0]]:
            del _cache[stale]
        _cache[key] = material
    return material
