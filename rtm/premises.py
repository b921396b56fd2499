"""Telling pubs, bars, nightclubs and members' clubs apart by name.

The Food Standards Agency files every premises of the business type "Pub/bar/nightclub"
together (the Open Pubs extract of ``../shared/data/uk_attractors``). Names often say which
one a place is ("Bar Zero", "Whispers Wine Bar", "Basildon Rugby Football Club",
"Atik Nightclub"); :func:`premises_kind` reads them. Anything the name does not mark is a
pub: the FSA type's most common member. The rules are deliberately plain so an analyst can
check a surprising label by reading the name.
"""

from __future__ import annotations

import re

KINDS = ("nightclub", "bar", "club", "pub")
"""The labels :func:`premises_kind` gives, in the order its rules are tried."""

_NIGHTCLUB = re.compile(r"night\s*club|\bdisco(theque)?\b|\bnite\s*club", re.I)
_MEMBERS = re.compile(
    r"\b(social|sports?|golf|cricket|football|rugby|hockey|bowls|bowling|tennis|squash|sailing|yacht|"
    r"rowing|cycling|athletic|snooker|country|conservative|constitutional|labour|liberal|legion|"
    r"working\s*m[ae]n'?s?|men'?s|ex-?servicemen|services?|luncheon|lunch|village|recreation|community|"
    r"memorial|veterans|ramblers|club\s+ltd|rfc|fc|cc)\b", re.I)
_CLUB = re.compile(r"\bclub\b|\blegion\b|\binstitute\b", re.I)
_BAR = re.compile(r"\bbars?\b|\bwine\s*bar\b|winebar|\blounge\b|cocktail|champagne|\bbrasserie\b", re.I)
_PUB_FIRST = re.compile(r"\bpub\b|public\s+house|\binn\b|\btavern\b|\barms\b", re.I)


def premises_kind(name) -> str:
    """``nightclub``, ``bar``, ``club`` (members' clubs: social, sports, political) or ``pub``.

    Parameters
    ----------
    name : str or None
        The premises' trading name.

    Returns
    -------
    str
        One of :data:`KINDS`. Rules, first match wins: "nightclub", "night club" or "disco"
        -> nightclub; a club, legion or institute named with a members' word (social,
        sports, golf, conservative, working men's, ...) -> club; "bar", "wine bar",
        "lounge", "cocktail", "brasserie" -> bar unless the name also says pub, public
        house, inn, tavern or arms ("The Chequers Pub (Bar)") -> pub; a name starting "Club "
        -> nightclub; any other club -> club; everything else -> pub. Few nightclubs say
        so in their name, so ``nightclub`` is a lower bound.
    """
    text = "" if name is None else str(name)
    if _NIGHTCLUB.search(text):
        return "nightclub"
    if _CLUB.search(text) and _MEMBERS.search(text):
        return "club"
    if _BAR.search(text):
        return "pub" if _PUB_FIRST.search(text) else "bar"
    if re.match(r"\s*club\s+\S", text, re.I):  # "Club 195", "Club Kingswood"
        return "nightclub"
    if _CLUB.search(text):
        return "club"
    return "pub"
