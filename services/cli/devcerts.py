"""A private CA and per-service certificates for mutual TLS between the services.

`python -m services.cli.devcerts OUT_DIR [--service NAME ...] [--dns NAME ...] [--days N]`
writes

    OUT_DIR/ca.crt, OUT_DIR/ca.key           the CA (keep ca.key offline; only ca.crt is deployed)
    OUT_DIR/<service>/tls.crt, tls.key, ca.crt  one identity per service (the layout of a
                                              kubernetes.io/tls Secret made by cert-manager)

Each service certificate carries both `serverAuth` and `clientAuth` (a service is a server to its
callers and a client of the services it calls) and these subject alternative names: the service
name, `<name>.<namespace>.svc` and `<name>.<namespace>.svc.cluster.local` for each `--namespace`,
every `--dns`, `localhost` and 127.0.0.1/::1. An existing CA in OUT_DIR is reused, so adding a
service later keeps the others valid.

For development, compose and tests. In production prefer cert-manager (docs/operations.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_SERVICES = ("auth", "jobs", "runner", "reporter", "gateway")
DEFAULT_DAYS = 365
_LOOPBACK_IPS = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key, as PEM."""

    cert_pem: bytes
    key_pem: bytes

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem)

    @property
    def private_key(self) -> ec.EllipticCurvePrivateKey:
        key = serialization.load_pem_private_key(self.key_pem, password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _now() -> dt.datetime:
    # Backdated a little: a freshly issued certificate must already be valid on a peer whose
    # clock runs slightly behind.
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)


def make_ca(common_name: str = "swarmcast dev CA", *, days: int = 3650) -> Issued:
    """A self-signed CA that may sign leaf certificates only (path length 0)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    start = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


def issue(
    ca: Issued,
    common_name: str,
    *,
    dns_names: Iterable[str] = (),
    ip_addresses: Iterable[str] = (),
    days: int = DEFAULT_DAYS,
) -> Issued:
    """A leaf certificate signed by `ca`, usable as TLS server and client (mutual TLS)."""
    key = ec.generate_private_key(ec.SECP256R1())
    ca_cert, ca_key = ca.certificate, ca.private_key
    names: list[x509.GeneralName] = [x509.DNSName(n) for n in dict.fromkeys(dns_names)]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in dict.fromkeys(ip_addresses)]
    if not names:
        raise ValueError("a service certificate needs at least one DNS name or IP address")
    start = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_encipherment=False,
                key_cert_sign=False,
                crl_sign=False,
                content_commitment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return Issued(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


def service_names(service: str, namespaces: Sequence[str] = (), extra_dns: Sequence[str] = ()) -> list[str]:
    """The DNS names a service's certificate should carry (see the module docstring)."""
    names = [service]
    for ns in namespaces:
        names += [f"{service}.{ns}.svc", f"{service}.{ns}.svc.cluster.local"]
    return [*names, *extra_dns, "localhost"]


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    tmp.replace(path)


def load_or_make_ca(out_dir: Path) -> Issued:
    cert, key = out_dir / "ca.crt", out_dir / "ca.key"
    if cert.exists() and key.exists():
        return Issued(cert.read_bytes(), key.read_bytes())
    ca = make_ca()
    _write(cert, ca.cert_pem)
    _write(key, ca.key_pem, private=True)
    return ca


def write_service(out_dir: Path, ca: Issued, service: str, dns: Sequence[str], days: int) -> Path:
    issued = issue(ca, service, dns_names=dns, ip_addresses=[str(ip) for ip in _LOOPBACK_IPS], days=days)
    folder = out_dir / service
    _write(folder / "tls.crt", issued.cert_pem)
    _write(folder / "tls.key", issued.key_pem, private=True)
    _write(folder / "ca.crt", ca.cert_pem)
    return folder


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.cli.devcerts", description=__doc__.split("\n")[0]
    )
    parser.add_argument("out_dir", type=Path)
    parser.add_argument(
        "--service", action="append", help=f"service name (repeatable; default: {' '.join(DEFAULT_SERVICES)})"
    )
    parser.add_argument("--namespace", action="append", default=[], help="Kubernetes namespace (repeatable)")
    parser.add_argument("--dns", action="append", default=[], help="extra DNS name on every certificate")
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS, help="validity of service certificates")
    args = parser.parse_args(argv)
    ca = load_or_make_ca(args.out_dir)
    for service in args.service or DEFAULT_SERVICES:
        folder = write_service(
            args.out_dir, ca, service, service_names(service, args.namespace, args.dns), args.days
        )
        print(f"{service}: {folder}/tls.crt, tls.key, ca.crt")
    print(f"CA: {args.out_dir / 'ca.crt'} (its key {args.out_dir / 'ca.key'} stays with you)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
