"""The chat log a job row keeps: ``chat_log.json`` cut to its first entries within a byte cap.

The runner used to send it inside `runner.completed`; chat text no longer rides on the bus
(docs/security.md, "Revocation and deletion"), so the jobs service reads the artifact from object
storage and caps it here. One implementation for both sides.
"""

from __future__ import annotations

import json
from typing import Any

# What a job row keeps of the chat log (the full log is the artifact).
DEFAULT_CHAT_LOG_CAP_BYTES = 200_000


def capped_chat_log(chat_log_json: bytes, cap_bytes: int = DEFAULT_CHAT_LOG_CAP_BYTES) -> str:
    """``chat_log.json`` cut to its first entries within ``cap_bytes`` (the full log is the artifact).

    Same shape as the artifact (``{"entries": [...]}``) plus ``truncated`` and ``total_entries``
    when entries were left out.
    """
    entries = json.loads(chat_log_json).get("entries", [])
    full = json.dumps({"entries": entries}, ensure_ascii=False, separators=(",", ":"))
    if len(full.encode()) <= cap_bytes:
        return full
    kept: list[Any] = []
    size = 64  # the envelope
    for entry in entries:
        line = len(json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode()) + 1
        if size + line > cap_bytes:
            break
        kept.append(entry)
        size += line
    return json.dumps(
        {"entries": kept, "truncated": True, "total_entries": len(entries)},
        ensure_ascii=False,
        separators=(",", ":"),
    )
