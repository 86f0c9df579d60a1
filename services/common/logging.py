"""Structured logging for every swarmcast process, with secrets and seed text redacted.

``configure_logging(service)`` installs one stderr handler on the root logger that writes JSON
lines (``timestamp``, ``level``, ``service``, ``logger``, ``message``, any ``extra`` fields,
``exc_info`` as ``exception``) or, with ``log_format=text``, a readable line.

Every record passing that handler first goes through ``RedactingFilter``:
- fields (``extra``, dict arguments, nested dicts and lists, protobuf messages) whose *key* looks
  sensitive (password, token, secret, authorization, api_key, cookie, seed, seed_text,
  enriched_seed, ...) get the value ``[REDACTED]``;
- strings (the formatted message, string fields, tracebacks) get bearer/basic credentials,
  JWT-looking strings, ``key=value`` / ``"key": "value"`` pairs with a sensitive key, URL
  passwords and signed-URL query secrets masked.

The module is ``services.common.logging``; imports are absolute, so ``import logging`` here and
in sibling modules still means the standard library.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

from services.common.config import Settings, get_settings

REDACTED = "[REDACTED]"

# Key names whose values are never logged. Matched against the lower-cased key with '-' -> '_'.
_SENSITIVE_KEY_RE = re.compile(
    r"(password|passwd|passphrase|secret|authorization|api_?key|access_?key|private_?key|credential|cookie"
    r"|token$|^seed$|seed_text$|enriched_seed$)"
)

# Values inside free text.
_BEARER_RE = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_JWT_RE = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_URL_PASSWORD_RE = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+@", re.IGNORECASE)
_QUERY_SECRET_RE = re.compile(
    r"(?P<head>[?&](?:token|code|key|password|secret|signature|x-amz-signature|x-amz-credential"
    r"|x-amz-security-token)=)[^&\s\"']+",
    re.IGNORECASE,
)
# key=value, key: value, "key": "value" (also protobuf text format: seed_text: "...").
_KV_RE = re.compile(
    r"(?P<head>\b(?:[\w-]*(?:password|passwd|secret|api[_-]?key|token|authorization)|seed_text|enriched_seed|seed)"
    r"[\"']?\s*[:=]\s*)"
    r"(?P<value>\[REDACTED\]|\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|[^\s,;&}\]]+)",
    re.IGNORECASE,
)

# Attributes every LogRecord has; anything else on a record came from `extra`.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
    | {"message", "asctime", "taskName"}
)


def is_sensitive_key(key: object) -> bool:
    """True if a field called ``key`` must not be logged."""
    return isinstance(key, str) and bool(_SENSITIVE_KEY_RE.search(key.lower().replace("-", "_")))


def redact_text(text: str) -> str:
    """Mask credentials, JWTs, sensitive ``key=value`` pairs and URL secrets inside ``text``."""
    text = _BEARER_RE.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _JWT_RE.sub(REDACTED, text)
    text = _URL_PASSWORD_RE.sub(lambda m: f"{m.group('head')}{REDACTED}@", text)
    text = _QUERY_SECRET_RE.sub(lambda m: f"{m.group('head')}{REDACTED}", text)
    return _KV_RE.sub(_mask_kv, text)


def _mask_kv(match: re.Match[str]) -> str:
    if match.group("value").strip("\"'") == REDACTED:
        return match.group(0)  # already masked (a record can pass the filter twice)
    return match.group("head") + REDACTED


def redact_value(value: Any, _depth: int = 0) -> Any:
    """A copy of ``value`` with sensitive keys (at any depth) and sensitive text masked."""
    if _depth > 8:
        return value  # pathological nesting; leave it rather than recurse forever
    if isinstance(value, Message):
        value = MessageToDict(value, preserving_proto_field_name=True)
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if is_sensitive_key(k) else redact_value(v, _depth + 1)) for k, v in value.items()
        }
    if isinstance(value, tuple):
        return tuple(redact_value(v, _depth + 1) for v in value)
    if isinstance(value, list | set | frozenset):
        return [redact_value(v, _depth + 1) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, bytes):
        return redact_text(value.decode("utf-8", "replace"))
    return value


class RedactingFilter(logging.Filter):
    """Rewrites a record in place so no handler can emit a secret; never drops records."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            self._redact(record)
        except Exception:  # redaction must never lose the record; keep a masked, unformatted form
            record.msg = redact_text(f"{record.msg} {record.args!r}" if record.args else str(record.msg))
            record.args = None
        return True

    @staticmethod
    def _redact(record: logging.LogRecord) -> None:
        args = record.args
        if isinstance(args, Mapping):
            args = redact_value(args)
        elif isinstance(args, tuple):
            # Mask containers and messages before they are rendered into the message text.
            args = tuple(a if isinstance(a, int | float) or a is None else redact_value(a) for a in args)
        message = str(record.msg) % args if args else str(record.msg)
        record.msg = redact_text(message)
        record.args = None
        for key in list(vars(record)):
            if key in _STANDARD_ATTRS or key.startswith("_"):
                continue
            value = getattr(record, key)
            setattr(record, key, REDACTED if is_sensitive_key(key) else redact_value(value))
        if record.exc_info and not record.exc_text:
            # Render the traceback now so its text can be masked (exception messages may hold secrets).
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp, level, service, logger, message, extras, exception."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in _extras(record).items():
            entry.setdefault(key, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``2024-01-01T00:00:00.000+00:00 INFO    jobs swarmcast.bus: message key='value' ...``."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        line = f"{ts} {record.levelname:<7} {self.service} {record.name}: {record.getMessage()}"
        extras = _extras(record)
        if extras:
            line += " " + " ".join(f"{k}={v!r}" for k, v in extras.items())
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line += "\n" + record.exc_text
        if record.stack_info:
            line += "\n" + record.stack_info
        return line


_HANDLER_MARK = "_swarmcast_handler"


def configure_logging(
    service: str,
    settings: Settings | None = None,
    *,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Route all logging to one redacting handler on stderr (or ``stream``); returns it.

    Level and format come from ``settings.log_level`` / ``settings.log_format`` ("json" or
    "text"). Calling it again replaces the handler it installed before (idempotent).
    """
    settings = settings or get_settings()
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    fmt = settings.log_format.strip().lower()
    handler.setFormatter(TextFormatter(service) if fmt == "text" else JsonFormatter(service))
    handler.addFilter(RedactingFilter())
    setattr(handler, _HANDLER_MARK, True)

    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    # Chatty third-party loggers: their DEBUG output would drown ours.
    for noisy in ("urllib3", "botocore", "asyncio", "grpc", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(logging.INFO, root.level))
    logging.captureWarnings(True)
    return handler


def get_logger(name: str) -> logging.Logger:
    """The logger ``name``; its records go through the handler ``configure_logging`` installed."""
    return logging.getLogger(name)
