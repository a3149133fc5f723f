"""Which stage changes a lead may make: pure rules, no I/O.

A lead goes forward (any number of stages, as a family may skip one), back
by one stage to correct a slip, may be closed from any open stage (with a
reason), and a closed lead may be reopened at the stage it was closed from.
Everything else is refused with a German message (msgid) the portal shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.vocab import CLOSE_REASONS, CLOSED, OPEN_STAGES, STAGE_LABELS, STAGES, german


@dataclass(frozen=True)
class Refused:
    """Why a change is not allowed: a msgid and its placeholders (German labels)."""

    message: str
    params: dict[str, str] = field(default_factory=dict)


def check(current: str, target: str, reason: str = "", reopen_to: str = "neu"
          ) -> Refused | None:
    """None when ``current`` → ``target`` is allowed; else why not.

    ``reason`` is needed to close; ``reopen_to`` is the stage a closed lead was
    closed from (the only stage it can be reopened at)."""
    if target not in STAGES:
        return Refused("Bitte wählen Sie einen Stand aus der Liste.")
    if current == CLOSED:
        if target == CLOSED:
            return Refused("Der Interessent ist bereits geschlossen.")
        if target != reopen_to:
            return Refused("Ein geschlossener Interessent wird beim Stand „%(stage)s“ "
                           "wieder geöffnet, von dem aus er geschlossen wurde.",
                           {"stage": german(STAGE_LABELS, reopen_to)})
        return None
    if current not in OPEN_STAGES:  # an unknown stored value: only closing is safe
        return None if target == CLOSED and reason in CLOSE_REASONS else Refused(
            "Bitte wählen Sie einen Stand aus der Liste.")
    if target == CLOSED:
        if reason not in CLOSE_REASONS:
            return Refused("Bitte wählen Sie einen Grund für das Schließen.")
        return None
    if target == current:
        return Refused("Der Stand ist bereits „%(stage)s“.",
                       {"stage": german(STAGE_LABELS, current)})
    if OPEN_STAGES.index(target) < OPEN_STAGES.index(current) - 1:
        return Refused("Zurück geht es nur um einen Stand (zur Korrektur), hier auf "
                       "„%(stage)s“.",
                       {"stage": german(STAGE_LABELS, OPEN_STAGES[OPEN_STAGES.index(current) - 1])})
    return None


def targets(current: str, reopen_to: str = "neu") -> list[str]:
    """The stages the form offers from ``current`` (closing is offered separately)."""
    return [s for s in OPEN_STAGES if check(current, s, reopen_to=reopen_to) is None]
