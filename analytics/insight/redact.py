"""Personal details out of free text before it reaches the store, and a check that what is left is safe to show.

No library fits offline: Microsoft Presidio and spaCy-based scrubbers need a language model downloaded at run time.
So the rules are patterns for the kinds the contract names (e-mail addresses, UK phone numbers, UK postcodes, street
addresses, web links) and, for names, a titled name ("Mrs Duncan"), a name introduced ("my name is …", "called …")
and a list of common UK first names with the capitalised word after them. A name the list lacks can slip through
the pattern, which is why quotes also need consent_to_quote and why `safe` refuses anything still looking personal.
"""
from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

NAMES_FILE = Path(__file__).with_name("first_names.txt")
MAX_QUOTE = 400  # characters: a quote is a sentence or two, not a whole submission

_EMAIL = re.compile(r"[\w.+'-]+\s*(?:@|\(at\)|\[at\])\s*[\w-]+(?:\s*(?:\.|\(dot\))\s*[\w-]+)+", re.I)
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.I)
# UK numbers: 01xxx/02x/07xxx/0800 with spaces, dashes or brackets, or +44; 10 or 11 digits in all.
_PHONE = re.compile(r"(?:\+\s*44\s*\(?0?\)?|\(?0)(?:[\s\-().]*\d){9,10}\b")
_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.I)
_STREET_WORDS = ("street|st|road|rd|avenue|ave|lane|ln|drive|dr|crescent|cres|place|pl|terrace|court|ct|gardens|"
                 "gdns|way|close|square|sq|wynd|brae|view|park|row|walk|grove|hill|loan|vennel")
_ADDRESS = re.compile(rf"\b(?:flat\s+\d+(?:/\d+)?,?\s+)?\d{{1,4}}[a-z]?,?\s+(?:[A-Z][\w'-]*\s+){{1,3}}"
                      rf"(?:{_STREET_WORDS})\b\.?", re.I)
_TITLED = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Doctor|Nurse|Sister|Councillor|Cllr)\.?\s+[A-Z][\w'-]+"
                     r"(?:\s+[A-Z][\w'-]+)?")
# Only the words that introduce a name ignore case: the name itself must be capitalised ("talk to someone" is not one).
_INTRODUCED = re.compile(r"\b(?i:my name is|i am called|i'm called|called|named|name's|ask for|speak to|talk to)\s+"
                         r"([A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)?)")
_TAG = re.compile(r"<[^>]{0,200}>")
_CAPITALISED = re.compile(r"\b([A-Z][a-z'-]+)(\s+[A-Z][\w'-]+)?")
REDACTED = {"email": "[e-mail]", "url": "[link]", "phone": "[phone]", "postcode": "[postcode]",
            "address": "[address]", "name": "[name]"}


@cache
def first_names() -> frozenset[str]:
    """Common UK first names, lower case (one a line in first_names.txt)."""
    return frozenset(n.strip().lower() for n in NAMES_FILE.read_text(encoding="utf-8").split() if n.strip())


def _names(text: str) -> str:
    text = _TITLED.sub(REDACTED["name"], text)
    text = _INTRODUCED.sub(lambda m: m.group(0)[:m.start(1) - m.start(0)] + REDACTED["name"], text)
    known = first_names()
    return _CAPITALISED.sub(lambda m: REDACTED["name"] if m.group(1).lower() in known else m.group(0), text)


def redact(text: str) -> str:
    """`text` with markup removed and every e-mail address, link, phone number, postcode, street address and name
    the rules find replaced by a placeholder such as [phone]; whitespace collapsed to single spaces."""
    text = unicodedata.normalize("NFKC", str(text))
    text = _TAG.sub(" ", text)  # markup is never shown: <script>, <b>, <img …> go, their words stay
    for kind, pattern in (("email", _EMAIL), ("url", _URL), ("address", _ADDRESS), ("postcode", _POSTCODE),
                          ("phone", _PHONE)):
        text = pattern.sub(REDACTED[kind], text)
    return " ".join(_names(text).split())


# What must never be left in a quote: a digit run like a phone or house number, an @, markup, a formula start,
# a control character.
_LEFTOVER = re.compile(r"\d[\d\s\-()]{5,}\d|@|[<>{}]|\bjavascript:|\[\s*at\s*\]", re.I)


def problems(text: str) -> list[str]:
    """Why `text` (already redacted) may not be shown as a quote: [] when it may."""
    found = []
    if _LEFTOVER.search(text):
        found.append("still holds something like a number, an address or markup")
    if any(p.search(text) for p in (_EMAIL, _URL, _PHONE, _POSTCODE, _ADDRESS, _TITLED)):
        found.append("still holds personal details")
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        found.append("starts like a spreadsheet formula")
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in text):
        found.append("holds invisible characters")
    if not text.strip() or len(text) > MAX_QUOTE:
        found.append(f"is empty or longer than {MAX_QUOTE} characters")
    return found


def safe_quote(text: str) -> str | None:
    """The redacted quote, or None when the redacted text fails the checks (it is then never shown)."""
    quote = redact(text)
    return None if problems(quote) else quote
