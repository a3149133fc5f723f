"""Files and folders of the service, for its own user only (0600 / 0700).

The data folder holds the database, the secret key and mails with families'
data; whatever the umask of the process, nothing the service creates there
may be readable by other users of the host.
"""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Create ``path`` and every missing parent as 0700; an existing folder is
    left as it is (its owner chose its mode)."""
    path = Path(path)
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:  # another process made it in the same moment
            continue
        os.chmod(folder, DIR_MODE)  # mkdir's mode passes through the umask
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` into the new file ``path`` (0600; it must not exist yet)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
