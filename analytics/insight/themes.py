"""Themes from free text, offline and deterministic: an editable codebook applied to every comment, discovery of
themes the codebook lacks (TF-IDF + non-negative matrix factorisation, scikit-learn) proposed to an editor, and
sentiment from VADER's lexicon (it ships inside its package; nothing is downloaded).

A codebook is theme → phrases. A phrase matches whole words without regard to case; a trailing * matches any ending
("interpret*" finds interpreter, interpreting). The same text and codebook always give the same themes.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.insight.redact import redact

# The codebook used when the pack has no codebook.csv: themes partnerships hear again and again.
DEFAULT_CODEBOOK: dict[str, tuple[str, ...]] = {
    "Interpreting and language": ("interpret*", "translat*", "language barrier*", "first language",
                                  "my english", "in my language", "in other languages"),
    "Respite and breaks for carers": ("respite", "short break*", "break from caring", "time off from caring",
                                      "day centre place*"),
    "Transport and travel": ("bus", "buses", "transport", "taxi*", "travel*", "lift to", "no car", "parking"),
    "Digital exclusion": ("online", "internet", "computer*", "smartphone*", "app", "website*", "digital",
                          "video call*"),
    "Waiting times": ("waiting list*", "waiting time*", "waited", "weeks to", "months to"),
    "Cost of living": ("afford*", "cost of living", "heating", "food bank*", "bills", "benefit*"),
    "Loneliness and isolation": ("lonely", "loneliness", "isolat*", "on my own", "nobody to talk"),
    "Mental health support": ("mental health", "anxiety", "anxious", "depress*", "counselling", "counsellor*"),
    "Care at home": ("home care", "care at home", "care package*", "carers visit*", "home visits"),
    "Information and advice": ("didn't know", "did not know", "who to contact", "signpost*", "clear information"),
}
# Discovery: topics proposed, the words each is shown by, the comments fitted (a sample keeps the build inside its
# minute on 100,000 comments; every comment is then scored), and the weight that counts a comment as on a topic.
TOPICS, TOP_TERMS, FIT_SAMPLE, MEMBER_WEIGHT = 8, 8, 20_000, 0.05
STOP_WORDS = ("just", "really", "think", "would", "like", "need", "needs", "get", "got", "feel", "also", "make",
              "know", "use", "used", "one", "much", "lot", "things", "thing", "want", "good", "help", "better", "able",
              "people", "service", "services", "time", "times", "really", "very", "dont", "don", "didn", "im", "ve",
              "name", "phone", "mail", "address", "postcode", "link")


def normalise(text: pd.Series) -> pd.Series:
    """Lower case, NFKC, curly apostrophes straight: what phrases are matched against."""
    return text.fillna("").map(lambda t: unicodedata.normalize("NFKC", t)).str.lower().str.replace("’", "'")


def phrase_pattern(phrases: tuple[str, ...] | list[str]) -> re.Pattern:
    """One regular expression for a theme's phrases (whole words; a trailing * matches any ending)."""
    parts = []
    for phrase in phrases:
        words = " ".join(phrase.lower().split())
        if not words:
            continue
        prefix = words.endswith("*")
        body = r"\s+".join(re.escape(w) for w in words.rstrip("*").split())
        parts.append(body + (r"\w*" if prefix else ""))
    return re.compile(r"\b(?:" + "|".join(parts) + r")\b") if parts else re.compile(r"(?!x)x")


def code(comments: pd.DataFrame, codebook: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    """Every comment against every theme. `comments` has response_id and text (and `row`, a comment's own number,
    when a response may leave several); returns one row per response (or row) and theme it mentions, with the
    columns response_id (row) and theme, each pair once however many phrases found it."""
    text = normalise(comments["text"])
    keep = [c for c in ("row", "response_id") if c in comments.columns]
    found = [comments.loc[text.str.contains(phrase_pattern(phrases), regex=True), keep].assign(theme=theme)
             for theme, phrases in codebook.items()]
    out = pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=[*keep, "theme"])
    return out.drop_duplicates().sort_values(["theme", *keep]).reset_index(drop=True)


@dataclass(frozen=True)
class Discovery:
    """Proposed topics (`topics`: topic, terms, like_theme — the codebook theme whose phrases its words match, or
    '' for one the codebook lacks) and which comments are on each (`members`: row position in the comments, topic)."""

    topics: pd.DataFrame
    members: pd.DataFrame


def discover(text: pd.Series, codebook: dict[str, tuple[str, ...]], topics: int = TOPICS) -> Discovery:
    """TF-IDF over words and NMF (nndsvda start, so no randomness) over the comments no codebook theme matched, so
    what it proposes is what the codebook lacks; each topic is named by its heaviest words (after redaction, so no
    name or address can become a topic's word) and matched to the codebook theme those words fall under, if any.
    `members` rows are positions in `text`."""
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

    empty = Discovery(pd.DataFrame(columns=["topic", "terms", "like_theme"]), pd.DataFrame(columns=["row", "topic"]))
    clean = _unmatched_sentences(text.reset_index(drop=True), codebook)
    if len(clean) < topics * 5:
        return empty
    step = max(1, len(clean) // FIT_SAMPLE)  # every step-th comment: a fixed sample, not a random one
    vectoriser = TfidfVectorizer(stop_words=sorted(ENGLISH_STOP_WORDS | set(STOP_WORDS)), ngram_range=(1, 1),
                                 min_df=5, max_df=0.5, max_features=5000, sublinear_tf=True,
                                 token_pattern=r"(?u)\b[a-z][a-z']+\b")
    try:
        sample = vectoriser.fit_transform(clean.iloc[::step])
    except ValueError:  # nothing left after the stop words
        return empty
    model = NMF(n_components=min(topics, sample.shape[1]), init="nndsvda", max_iter=400, random_state=0)
    model.fit(sample)
    weights = model.transform(vectoriser.transform(clean))
    vocabulary = np.array(vectoriser.get_feature_names_out())
    rows = []
    for k, component in enumerate(model.components_):
        terms = list(vocabulary[np.argsort(-component)[:TOP_TERMS]])
        rows.append({"topic": k + 1, "terms": ", ".join(terms), "like_theme": like_theme(terms, codebook)})
    strongest = weights.argmax(axis=1)
    on = weights.max(axis=1) >= MEMBER_WEIGHT
    members = pd.DataFrame({"row": clean.index.to_numpy()[on], "topic": strongest[on] + 1}).drop_duplicates()
    return Discovery(pd.DataFrame(rows), members)


def _unmatched_sentences(text: pd.Series, codebook: dict[str, tuple[str, ...]]) -> pd.Series:
    """The sentences no codebook theme matches (index: the comment's position), redacted first so no name or address
    can become a topic's word, placeholders and plural s dropped ("prescriptions" and "prescription" are one word)."""
    # Capitalised words inside a sentence are names of people or places: never a topic's word.
    proper = text.map(redact).str.replace(r"(?<=[\w,;:)]\s)[A-Z][\w'-]*", " ", regex=True)
    sentences = normalise(proper).str.split(r"(?<=[.!?])\s+").explode()
    sentences = sentences.str.replace(r"\[[a-z-]+\]", " ", regex=True).str.replace(r"\b(\w{4,}?)s\b", r"\1", regex=True)
    matched = pd.Series(False, index=sentences.index)
    for phrases in codebook.values():
        matched |= sentences.str.contains(phrase_pattern(phrases), regex=True)
    kept = sentences[~matched]
    return kept[kept.str.strip().ne("")]


def like_theme(terms: list[str], codebook: dict[str, tuple[str, ...]]) -> str:
    """The codebook theme most of whose phrases the terms hit (the first such theme on a tie); '' for none."""
    best, best_hits = "", 0
    for theme, phrases in codebook.items():
        pattern = phrase_pattern(phrases)
        hits = sum(bool(pattern.search(term)) for term in terms)
        if hits > best_hits:
            best, best_hits = theme, hits
    return best


def sentiment(text: pd.Series) -> pd.Series:
    """VADER's compound score (-1 most negative … +1 most positive) per comment; NaN when VADER is not installed."""
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:  # optional: themes and prevalence do not need it
        return pd.Series(np.nan, index=text.index)
    analyser = SentimentIntensityAnalyzer()
    return text.fillna("").map(lambda t: analyser.polarity_scores(t)["compound"]).astype(float)


def codebook_from(frame: pd.DataFrame | None) -> dict[str, tuple[str, ...]]:
    """codebook.csv (theme, phrases separated by ;) as a codebook; the built-in one when there is none."""
    if frame is None or not len(frame):
        return dict(DEFAULT_CODEBOOK)
    return {str(t).strip(): tuple(p.strip() for p in str(ps).split(";") if p.strip())
            for t, ps in zip(frame["theme"], frame["phrases"])}
