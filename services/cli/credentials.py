"""Where `swarmcast login` keeps its tokens: `credentials.json` (mode 0600) in the config folder.

The folder is `$SWARMCAST_CONFIG_DIR`, else `$XDG_CONFIG_HOME/swarmcast`, else
`~/.config/swarmcast`. The file holds the email, the access and refresh tokens, and the auth
address they were issued by, so a login against one stack is not replayed against another.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path


def config_dir() -> Path:
    explicit = os.environ.get("SWARMCAST_CONFIG_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "swarmcast"


def credentials_path() -> Path:
    return config_dir() / "credentials.json"


@dataclass
class Credentials:
    email: str
    access_token: str
    refresh_token: str
    auth_addr: str
    user_id: int = 0


def load() -> Credentials | None:
    try:
        data = json.loads(credentials_path().read_text())
        return Credentials(**data)
    except (FileNotFoundError, ValueError, TypeError):
        return None


def save(creds: Credentials) -> Path:
    """Writes atomically with mode 0600 (the file never exists with wider permissions)."""
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an existing tmp file keeps its old mode otherwise
        os.write(fd, json.dumps(asdict(creds), indent=2).encode())
    finally:
        os.close(fd)
    tmp.replace(path)
    return path


def clear() -> bool:
    try:
        credentials_path().unlink()
    except FileNotFoundError:
        return False
    return True
