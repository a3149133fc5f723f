"""What the lead workflow needs from the running service, handed over as one value.

The app factory (and the command line) build it once; views, jobs and
commands pass it on instead of reaching into application state.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..content import Content
from ..core.clock import Clock
from ..core.db import Database
from ..core.settings import Settings
from ..delivery.message import Mailer


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    content: Content
    mailer: Mailer
    clock: Clock
