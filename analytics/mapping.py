"""Matching a partner's spreadsheet to the ledger: its columns to the ledger's fields, its values to allowed values.

Column names are guessed from a table of synonyms, then by similarity (difflib), and a matching can be saved per
partner (`<pack>/ledger_mappings/<partner-slug>.json`) and reused. Each value function takes one cell's text and
returns the ledger's value and, where the cell cannot be turned into one, a message saying why and what would be
accepted; a cell it cannot read is passed through unchanged so that the contract's own check names it.
"""
from __future__ import annotations

import datetime as dt
import difflib
import json
import os
import re
from pathlib import Path

from analytics import config
from analytics.schema import LEDGER_FILES, YEAR_MAX, YEAR_MIN

KINDS = ("responses", "activities", "comments", "insights", "actions", "stories")  # issue 22: the last four
FIELDS: dict[str, tuple[str, ...]] = {s.table_name: tuple(c.name for c in s.columns) for s in LEDGER_FILES
                                      if s.table_name in KINDS}
MAPPINGS_DIR = "ledger_mappings"

# Squashed header (lower case, letters and digits only) or a run of its words → field. Specific names first.
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "responses": {
        "response_id": ("response id", "respondent id", "response number", "respondent", "record id",
                        "submission id", "unique id", "reference", "id"),
        "activity_id": ("activity id", "activity code", "survey id", "event id", "session id", "activity"),
        "submitted_on": ("submitted on", "date submitted", "submission date", "submitted", "timestamp",
                         "completed", "completion time", "response date", "end date", "date", "time"),
        "area_code": ("data zone code", "datazone code", "data zone", "datazone", "dz", "area code", "area name",
                      "lsoa", "postcode", "post code", "where do you live", "area"),
        "sex": ("gender identity", "gender", "sex"),
        "age_band": ("age band", "age group", "age range", "age in years", "how old are you", "age"),
        "communities": ("communities", "community", "groups", "do you identify as"),
        "priorities": ("priorities", "priority", "what matters", "themes"),
    },
    "activities": {
        "activity_id": ("activity id", "activity code", "reference", "ref", "id", "code"),
        "title": ("title", "activity name", "event name", "session name", "name", "activity", "description"),
        "method": ("method", "activity type", "engagement type", "type", "format"),
        "partner": ("partner", "organisation", "organization", "run by", "lead organisation", "host"),
        "start_date": ("start date", "date held", "start", "from", "date"),
        "end_date": ("end date", "finish", "until", "end", "to"),
        "locality": ("locality", "localities"),
        "area_code": ("data zone code", "data zone", "datazone", "venue data zone", "area code", "postcode",
                      "venue"),
        "mode": ("mode", "delivery", "in person or online", "setting"),
        "participants": ("participants", "attendees", "attendance", "number attending", "head count", "headcount",
                         "people"),
        "communities": ("communities", "groups reached", "community", "groups"),
    },
}
SYNONYMS |= {  # issue 22
    "comments": {"response_id": ("response id", "respondent id", "respondent", "id"),
                 "question": ("question", "asked"), "text": ("comment", "comments", "answer", "response", "text"),
                 "consent_to_quote": ("consent to quote", "may we quote", "quote", "consent")},
    "insights": {"insight_id": ("insight id", "id", "reference"), "activity_id": ("activity id", "activity"),
                 "summary": ("summary", "finding", "what we heard"), "published_on": ("published", "date"),
                 "source": ("source", "report")},
    "actions": {"action_id": ("action id", "id", "reference"), "insight_ids": ("insight ids", "insight", "insights"),
                "decision": ("decision", "what was decided", "action", "we did"), "owner": ("owner", "lead"),
                "reported_back_on": ("reported back", "reported back on", "feedback date")},
    "stories": {"story_id": ("story id", "id"), "teller": ("teller", "told by", "who"),
                "told_on": ("told on", "date"), "media": ("media", "recording", "link")},
}
YES_NO = {"yes": "yes", "y": "yes", "true": "yes", "1": "yes", "no": "no", "n": "no", "false": "no", "0": "no"}
STATUS_WORDS = {"in progress": "in_progress", "underway": "in_progress", "not taken": "not_taken",
                "declined": "not_taken", "complete": "done", "completed": "done"}
CONSENT_WORDS = {"board only": "board_only", "board": "board_only", "withdrawn": "withdrawn", "public": "public"}


def to_word(value: str, words: dict[str, str]) -> tuple[str, str | None]:
    """A yes/no, status or consent written as people write it ('In progress', 'Board only', 'Y') → the ledger's
    value; anything else passed through for the contract's check to name."""
    key = " ".join(value.strip().lower().replace("_", " ").split())
    return words.get(key, key.replace(" ", "_")), None


GUESS_CUTOFF = 0.8  # difflib similarity below which a column is left for the person to choose


def squash(text: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(text).lower())


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _score(header: str, field: str, synonyms: tuple[str, ...]) -> float:
    """1 for the field's own name or a synonym; 0.9 when a synonym's words appear in the header in order
    ('Which priorities matter to you?'); otherwise difflib's similarity, capped below both."""
    flat, words = squash(header), _words(header)
    names = (field.replace("_", " "),) + synonyms
    if flat in {squash(n) for n in names}:
        return 1.0
    for rank, name in enumerate(names):
        target = name.split()
        if any(words[i:i + len(target)] == target for i in range(len(words))):
            return 0.9 - rank / 1000  # an earlier (more specific) synonym wins a tie
    best = max(difflib.SequenceMatcher(None, flat, squash(n)).ratio() for n in names)
    return min(best, 0.85)


def guess_columns(headers: list[str], kind: str) -> dict[str, str | None]:
    """Field → the header it most probably comes from (None when nothing is close), one header per field."""
    pairs = sorted(((_score(h, f, SYNONYMS[kind].get(f, ())), -i, f, h)
                    for f in FIELDS[kind] for i, h in enumerate(headers)), reverse=True)
    chosen: dict[str, str | None] = dict.fromkeys(FIELDS[kind])
    used: set[str] = set()
    for score, _, field, header in pairs:
        if score >= GUESS_CUTOFF and chosen[field] is None and header not in used:
            chosen[field] = header
            used.add(header)
    return chosen


# --- values -------------------------------------------------------------------------------------------------

BLANKS = {"", "na", "n/a", "none", "unknown", "not known", "notknown", "-", "prefer not to say",
          "prefernottosay", "prefer not to answer", "rather not say", "not stated", "not given"}
SEX_WORDS = {
    "F": ("f", "female", "woman", "women", "girl"),
    "M": ("m", "male", "man", "men", "boy"),
    "X": ("x", "non-binary", "nonbinary", "non binary", "other", "another", "in another way",
          "prefer to self-describe", "prefer to self describe", "self-describe", "self describe", "genderqueer",
          "agender", "gender fluid", "genderfluid"),
}
_SEX = {squash(w): code for code, words in SEX_WORDS.items() for w in words}
METHOD_WORDS = {"survey": "online_survey", "online survey": "online_survey", "web survey": "online_survey",
                "paper": "paper_survey", "postal survey": "paper_survey", "paper questionnaire": "paper_survey",
                "focus group": "focus_group", "one to one": "interview", "1:1": "interview",
                "drop in": "event", "drop-in": "event", "talk": "presentation", "workshop": "event"}
MODE_WORDS = {"in person": "in_person", "face to face": "in_person", "f2f": "in_person", "online": "virtual",
              "teams": "virtual", "zoom": "virtual", "video call": "virtual", "phone": "remote",
              "telephone": "remote", "postal": "remote", "post": "remote"}
ALL_WORDS = {"all", "whole partnership", "all localities", "partnership wide", "partnership-wide"}
POSTCODE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}$", re.IGNORECASE)
MAX_AGE = 120


def is_blank(value: str) -> bool:
    return value.strip().lower() in BLANKS


def to_sex(value: str) -> tuple[str, str | None]:
    if is_blank(value):
        return "", None
    return _SEX.get(squash(value), value.strip()), None


def _enum(value: str, allowed: tuple[str, ...], words: dict[str, str]) -> tuple[str, str | None]:
    snake = re.sub(r"[^a-z0-9]+", "_", value.strip().lower()).strip("_")
    if snake in allowed:
        return snake, None
    lookup = {squash(k): v for k, v in words.items()}
    return lookup.get(squash(value), value.strip()), None


def to_method(value: str) -> tuple[str, str | None]:
    return _enum(value, config.METHODS, METHOD_WORDS)


def to_mode(value: str) -> tuple[str, str | None]:
    return _enum(value, config.MODES, MODE_WORDS)


def band_of(age: int) -> str:
    return "90+" if age >= 90 else f"{age - age % 5}-{age - age % 5 + 4}"


def to_age_band(value: str) -> tuple[str, str | None]:
    """47 → '45-49'; '45-49' stays; '18-19' → '15-19' (it fits one band); '45-54' is refused (two bands)."""
    text = value.strip().lower().replace("–", "-").replace(" to ", "-").replace("years", "").replace(" ", "")
    if is_blank(value):
        return "", None
    if re.fullmatch(r"\d+(\.0+)?", text):
        age = int(float(text))
        if age > MAX_AGE:
            return value.strip(), f"expected an age of 0 to {MAX_AGE} in whole years, a five-year band such as " \
                                  "45-49, or blank"
        return band_of(age), None
    span = re.fullmatch(r"(\d+)-(\d+)", text)
    if span:
        low, high = int(span[1]), int(span[2])
    else:
        span = re.fullmatch(r"(\d+)(\+|andover|plus)", text)
        if not span:
            return value.strip(), None  # the contract's check lists the bands
        low, high = int(span[1]), MAX_AGE
    if low > high or high > MAX_AGE:
        return value.strip(), f"expected an age range within 0 to {MAX_AGE}, low to high, such as 45-49"
    bands = sorted({band_of(low), band_of(high)}, key=config.band_lower)
    if len(bands) == 1:
        return bands[0], None
    return value.strip(), (f"the age range {value.strip()} spans more than one five-year band ({bands[0]} to "
                           f"{bands[-1]}); the ledger needs one band, so give single years of age or five-year "
                           "bands such as 45-49")


EXCEL_EPOCH = dt.date(1899, 12, 30)
EXCEL_SERIALS = range(20000, 80000)  # 1954 to 2119: a bare number outside this is not taken for a date
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y", "%d %B %Y", "%d %b %Y",
                "%B %d, %Y", "%b %d, %Y")
DATE_MESSAGE = ("expected a date such as 2025-03-31 or 31/03/2025 (day first), a spreadsheet date or a timestamp "
                "such as 2025-03-31 14:05")


def to_date(value: str, month_first: bool = False) -> tuple[str, str | None]:
    """ISO dates, DD/MM/YYYY (MM/DD/YYYY when `month_first`), Excel serial numbers and timestamps → YYYY-MM-DD.
    Every path ends in the contract's year guard (issue 19: the timestamp 0001-01-01T00:00:00Z was let through)."""
    text = value.strip()
    if not text:
        return "", None
    if re.fullmatch(r"\d+(\.\d+)?", text):
        serial = float(text)
        if int(serial) in EXCEL_SERIALS:
            return _in_years(EXCEL_EPOCH + dt.timedelta(days=int(serial)), text)
        return text, DATE_MESSAGE
    day = re.split(r"[T ](?=\d{1,2}:\d{2})", text, maxsplit=1)[0].strip()  # drop a time of day
    formats = DATE_FORMATS if not month_first else tuple(f.replace("%d/%m", "%m/%d") for f in DATE_FORMATS)
    for form in formats:
        try:
            parsed = dt.datetime.strptime(day, form).date()
        except ValueError:
            continue
        if YEAR_MIN <= parsed.year <= YEAR_MAX:  # '%Y' also reads '25' as the year 25
            return parsed.isoformat(), None
    try:  # ISO timestamps with a zone, e.g. 2025-01-02T10:00:00+00:00
        return _in_years(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date(), text)
    except ValueError:
        return text, DATE_MESSAGE


def _in_years(day: dt.date, text: str) -> tuple[str, str | None]:
    if YEAR_MIN <= day.year <= YEAR_MAX:
        return day.isoformat(), None
    return text, f"the year {day.year} is outside {YEAR_MIN} to {YEAR_MAX}; {DATE_MESSAGE}"


def month_first(values: list[str]) -> bool:
    """True when a column of slash dates reads only as month first (an American export): some middle number is
    over 12 and no first number is."""
    pairs = [re.match(r"^(\d{1,2})/(\d{1,2})/\d{2,4}", v.strip()) for v in values]
    pairs = [(int(m.group(1)), int(m.group(2))) for m in pairs if m]
    return bool(pairs) and any(b > 12 for _, b in pairs) and not any(a > 12 for a, _ in pairs)


def to_area(value: str, codes: dict[str, str], names: dict[str, str | None]) -> tuple[str, str | None]:
    """An area code (any case) or an area's name from areas.geojson → its code; a postcode is refused clearly."""
    text = value.strip()
    if is_blank(text):
        return "", None
    key = text.lower()
    if key in codes:
        return codes[key], None
    if key in names:
        if names[key] is None:
            return text, "more than one area has this name; give the area code instead"
        return names[key], None  # type: ignore[return-value]
    if POSTCODE.match(text):
        return text, ("looks like a postcode: a postcode cannot be turned into a data zone without a postcode "
                      "lookup file. Convert postcodes to data zone codes first (e.g. with the Scottish Postcode "
                      "Directory), or leave area_code unmatched")
    return text, None


def to_choice(value: str, known: dict[str, str], all_words: frozenset[str] | set[str] = frozenset()
              ) -> tuple[str, str | None]:
    """A locality (or 'All') matched without regard to case."""
    key = value.strip().lower()
    if key in all_words:
        return config.ALL_LOCALITIES, None
    return known.get(key, value.strip()), None


def to_list(value: str, known: dict[str, str]) -> tuple[str, str | None]:
    """Items separated by ';' (or ',' when every part is known) → ';'-separated known names, matched without
    regard to case (priorities also by their label). Unknown items are kept, for the contract's check to name."""
    text = value.strip()
    if is_blank(text):
        return "", None
    items = [i.strip() for i in text.split(";") if i.strip()]
    if len(items) == 1 and "," in text and items[0].lower() not in known:
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if all(p.lower() in known for p in parts):
            items = parts
    return ";".join(known.get(i.lower(), i) for i in items), None


def to_count(value: str) -> tuple[str, str | None]:
    text = value.strip().replace(",", "")
    if re.fullmatch(r"\d+\.0+", text):
        text = text.split(".")[0]
    return text, None


# --- saved matchings ----------------------------------------------------------------------------------------

def slug(partner: str) -> str:
    """A partner's name as a safe file name: 'Carers Centre (North)' → 'carers-centre-north'."""
    return re.sub(r"[^a-z0-9]+", "-", partner.lower()).strip("-")[:60]


def _mapping_file(pack: Path, partner: str) -> Path | None:
    name = slug(partner)
    return (Path(pack) / MAPPINGS_DIR / f"{name}.json") if name else None


def _saved(pack: Path, partner: str, kind: str, part: str) -> dict:
    file = _mapping_file(pack, partner)
    try:
        saved = json.loads(file.read_text(encoding="utf-8"))["mappings"][kind].get(part, {}) if file else {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
    return saved if isinstance(saved, dict) else {}


def load_mapping(pack: Path, partner: str, kind: str) -> dict[str, str]:
    """The saved field → header matching for a partner's files of this kind ({} when none or unreadable)."""
    return {f: h for f, h in _saved(pack, partner, kind, "columns").items()
            if f in FIELDS[kind] and isinstance(h, str)}


def load_values(pack: Path, partner: str, kind: str) -> dict[str, dict[str, str]]:
    """The values matched by hand in the partner's earlier files: field → {their value: the ledger's value}."""
    return {f: {str(k): str(v) for k, v in chosen.items()} for f, chosen in _saved(pack, partner, kind, "values").items()
            if f in FIELDS[kind] and isinstance(chosen, dict)}


def save_mapping(pack: Path, partner: str, kind: str, columns: dict[str, str | None], saved_by: str,
                 values: dict[str, dict[str, str]] | None = None) -> Path:
    """Save (atomically) the matching used (columns, and values matched by hand), so the partner's next file of
    this kind is matched the same way."""
    file = _mapping_file(pack, partner)
    if file is None:
        raise ValueError("a partner name with at least one letter or digit is needed to save a matching")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        assert isinstance(data.get("mappings"), dict)
    except (OSError, ValueError, AssertionError, AttributeError):
        data = {"partner": partner, "mappings": {}}
    data["mappings"][kind] = {"columns": {f: h for f, h in columns.items() if h},
                              "values": {f: dict(v) for f, v in (values or {}).items() if v},
                              "saved_by": saved_by,
                              "saved_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, file)
    return file


def saved_partners(pack: Path) -> list[str]:
    """Partners with a saved matching, by the name they were saved under."""
    folder = Path(pack) / MAPPINGS_DIR
    names = []
    for file in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            names.append(str(json.loads(file.read_text(encoding="utf-8"))["partner"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return names
