"""A throwaway certificate authority for TLS tests (``cryptography``), and a decoder of one frame."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

import av
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.play.settings import PlaySettings, open_options, source_kind


@dataclass
class ThrowawayCa:
    ca_file: Path  # the CA certificate clients are told to trust
    cert: Path  # server certificate for localhost / 127.0.0.1, signed by the CA
    key: Path
    other_ca: Path  # an unrelated CA: trusting it must not let the server through


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _ca(cn: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def make_ca(root: Path) -> ThrowawayCa:
    """Write a CA, a server certificate (SAN localhost, 127.0.0.1) and an unrelated CA under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = _ca("Xiaozhibo Test CA")
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name("localhost")).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    out = ThrowawayCa(root / "ca.pem", root / "server.pem", root / "server.key", root / "other-ca.pem")
    out.ca_file.write_bytes(ca_cert.public_bytes(pem))
    out.cert.write_bytes(cert.public_bytes(pem))
    out.key.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    out.key.chmod(0o600)
    out.other_ca.write_bytes(_ca("Someone Else's CA")[1].public_bytes(pem))
    return out


def first_frame(url: str, ca_file: str | Path | None, timeout: float = 10.0) -> tuple[int, int]:
    """(width, height) of the first video frame of ``url``, opened with the player's options
    (so TLS is verified against ``ca_file``); raises av.FFmpegError/OSError when refused."""
    settings = PlaySettings(ca_file=str(ca_file or ""))
    opts = open_options(url, source_kind(url), settings, live=True)
    with av.open(url, options=opts, timeout=(timeout, timeout)) as c:
        for frame in c.decode(video=0):
            return frame.width, frame.height
    raise AssertionError("no video frame")
