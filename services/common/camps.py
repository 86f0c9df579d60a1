"""Camps: where an agent's probability for the goal puts it (docs/artifacts.md).

One rule for the whole platform - the reporter's coalitions, the runner's interviews, the UI's
graph filter and a branch's comparison all group agents the same way.
"""

from __future__ import annotations

# An agent whose probability is at least YES_LINE backs the goal; at most NO_LINE opposes it.
YES_LINE = 0.6
NO_LINE = 0.4
CAMPS: tuple[str, ...] = ("yes", "no", "undecided")
CAMP_LABELS = {"yes": "YES camp", "no": "NO camp", "undecided": "Undecided middle"}


def camp_of(prob: float) -> str:
    """ "yes", "no" or "undecided" for a probability of the goal."""
    if prob >= YES_LINE:
        return "yes"
    if prob <= NO_LINE:
        return "no"
    return "undecided"
