"""Email address normalisation and validation.

Deliberately stricter than RFC 5322 (no quoted local parts, no comments, no IP-literal domains):
an address that passes here is one a mail server will accept and a human typed on purpose.
The stored form is trimmed and lower-cased, so `Alice@Example.COM ` and `alice@example.com` are the
same account.
"""

from __future__ import annotations

import unicodedata

MAX_LENGTH = 254  # RFC 5321 path limit
MAX_LOCAL_LENGTH = 64
MAX_LABEL_LENGTH = 63
# RFC 5322 atext, minus nothing: these are all legal in an unquoted local part.
_LOCAL_ASCII = frozenset("abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+/=?^_`{|}~-.")
_LABEL_ASCII = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


class EmailError(ValueError):
    """The email is not acceptable; the message is safe to show."""


def _is_unicode_word_char(ch: str) -> bool:
    # Internationalised addresses (RFC 6531): letters, marks and digits of any script.
    return ord(ch) > 127 and unicodedata.category(ch)[0] in "LMN"


def normalize_email(raw: str) -> str:
    """Trims, lower-cases and validates `raw`; returns the canonical address or raises EmailError."""
    if not isinstance(raw, str):
        raise EmailError("email must be text")
    # Cheap bound first: a 10 kB input is rejected without further work.
    if len(raw) > MAX_LENGTH * 2:
        raise EmailError(f"email must be at most {MAX_LENGTH} characters")
    email = raw.strip().lower()
    if not email:
        raise EmailError("email is required")
    if len(email) > MAX_LENGTH:
        raise EmailError(f"email must be at most {MAX_LENGTH} characters")
    for ch in email:
        if 0xD800 <= ord(ch) <= 0xDFFF:
            raise EmailError("email must be valid Unicode text")
        if ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            raise EmailError("email must not contain spaces or control characters")
    if email.count("@") != 1:
        raise EmailError("email must look like name@example.com")
    local, domain = email.split("@")
    _check_local(local)
    _check_domain(domain)
    return email


def _check_local(local: str) -> None:
    if not local:
        raise EmailError("email is missing the part before '@'")
    if len(local) > MAX_LOCAL_LENGTH:
        raise EmailError(f"the part before '@' must be at most {MAX_LOCAL_LENGTH} characters")
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise EmailError("the part before '@' must not start or end with '.' or contain '..'")
    for ch in local:
        if ch not in _LOCAL_ASCII and not _is_unicode_word_char(ch):
            raise EmailError(f"email contains a character that is not allowed: {ch!r}")


def _check_domain(domain: str) -> None:
    if not domain:
        raise EmailError("email is missing the domain after '@'")
    labels = domain.split(".")
    if len(labels) < 2:
        raise EmailError("the email domain must contain a '.' (e.g. example.com)")
    for label in labels:
        if not label:
            raise EmailError(
                "the email domain must not contain empty labels ('..' or a leading/trailing '.')"
            )
        if len(label) > MAX_LABEL_LENGTH:
            raise EmailError(f"each part of the email domain must be at most {MAX_LABEL_LENGTH} characters")
        if label.startswith("-") or label.endswith("-"):
            raise EmailError("parts of the email domain must not start or end with '-'")
        for ch in label:
            if ch not in _LABEL_ASCII and not _is_unicode_word_char(ch):
                raise EmailError(f"the email domain contains a character that is not allowed: {ch!r}")
    if labels[-1].isdigit():
        raise EmailError("the email domain must end in a name, not a number")
