"""Files only their owner may read (keys, secrets, passwords, mail): written once, here.

Each is written to a private temporary file in the same folder and renamed over the target, so a
reader sees the old file or the whole new one, never half a key, and never a moment at a wider
mode (mkstemp creates 0600).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_private(path: Path, data: bytes | str) -> None:
    """Writes `data` (str: UTF-8) to `path`, owner-only (0600), atomically; the folder is created
    owner-only if missing."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
