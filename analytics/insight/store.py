"""The insight tables, written when the store is built (analytics.build calls `write`), so pages only read.

Free text never reaches the store: comments are coded to themes here and only consented, redacted quotes that pass
the checks are kept, each under a theme and a group whose count of people is published (never one under the
threshold). Withdrawn stories are left out; the rest are redacted too. Tables written:
  insight_codebook (theme, phrases, source), insight_topics (topic, theme, terms, like_theme),
  insight_prevalence (source, dimension, grp, theme, mentioned, commenters, share, share_low, share_high, withheld,
  last_heard), insight_distinctive (source, dimension, grp, theme, log_odds, z, rank),
  insight_quotes (theme, dimension, grp, quote, sentiment), insight_themes (source, theme, mentioned, share,
  share_low, share_high, withheld, sentiment, last_heard), stories (consent public or board_only, redacted).
"""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from analytics import disclosure
from analytics.db import sql
from analytics.insight import groups, redact, themes

AGE_EDGES = [15, 25, 45, 65, 75]  # broad age groups for themes: 75+ apart, as digital exclusion shows
AGE_LABELS = ["15-24", "25-44", "45-64", "65-74", "75+"]
MAX_QUOTES = 3  # per theme and group: enough to hear voices, few enough that no one is recognised by many
PRIVATE = ("comments", "stories", "codebook")  # pack tables that only reach the store through this module
HELPERS = ("insight_commenters", "insight_comment_themes", "insight_groups")  # person-level: dropped after use
DISCOVERED = "discovered"


def write(con: duckdb.DuckDBPyConnection, tables: dict[str, pd.DataFrame], threshold: int) -> dict[str, int]:
    """Code, count, protect and write every insight table; returns their row counts."""
    comments = tables["comments"].reset_index(drop=True)
    codebook = themes.codebook_from(tables.get("codebook"))
    coded, topics = _coded(comments, codebook) if len(comments) else (_empty(CODED), _empty(TOPICS))
    _put(con, "insight_commenters", comments[["response_id"]].drop_duplicates())
    _put(con, "insight_comment_themes", coded[["source", "response_id", "theme"]].drop_duplicates())
    con.execute(f"CREATE TABLE insight_groups AS {sql('insight_groups')}",
                {"age_edges": AGE_EDGES, "age_labels": AGE_LABELS})
    prevalence = _prevalence(con, threshold)
    score = themes.sentiment(comments["text"])  # once per comment: VADER is the slowest step at scale
    out = {
        "insight_codebook": _codebook_table(codebook, tables.get("codebook")),
        "insight_topics": _topics(topics, prevalence),
        "insight_prevalence": prevalence,
        "insight_distinctive": pd.concat([groups.log_odds(p).assign(source=s)
                                          for s, p in prevalence.groupby("source")] or [_no_rows()]),
        "insight_quotes": _quotes(con, comments, coded, prevalence, score, threshold),
        "insight_themes": _summary(coded, prevalence, score),
        "stories": _stories(tables["stories"]),
    }
    for helper in HELPERS:
        con.execute(f"DROP TABLE {helper}")
    for name, frame in out.items():
        _put(con, name, frame.reset_index(drop=True))
    return {name: len(frame) for name, frame in out.items()}


CODED = {"row": "int64", "response_id": "str", "theme": "str", "source": "str"}
TOPICS = {"topic": "int64", "terms": "str", "like_theme": "str", "theme": "str"}


def _empty(columns: dict[str, str]) -> pd.DataFrame:
    """No rows, but the columns and types the tables need (a pack without comments still builds every table)."""
    return pd.DataFrame({name: pd.Series(dtype=kind) for name, kind in columns.items()})


def _put(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> None:
    ordered = frame.sort_values(list(frame.columns), kind="stable") if len(frame) else frame  # same input, same rows
    con.register("incoming_insight", ordered)
    con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM incoming_insight')
    con.unregister("incoming_insight")


def _coded(comments: pd.DataFrame, codebook: dict[str, tuple[str, ...]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(row, response_id, theme, source) for codebook themes and discovered topics, and the topics proposed."""
    rows = comments.assign(row=np.arange(len(comments)))
    found = themes.code(rows[["row", "response_id", "text"]], codebook).assign(source="codebook")
    discovery = themes.discover(comments["text"], codebook)
    names = {t: topic_name(t, terms) for t, terms in zip(discovery.topics["topic"], discovery.topics["terms"])}
    topical = discovery.members.assign(theme=[names[t] for t in discovery.members["topic"]], source=DISCOVERED)
    topical["response_id"] = comments["response_id"].to_numpy()[topical["row"].to_numpy(dtype=int)]
    coded = pd.concat([found[["row", "response_id", "theme", "source"]],
                       topical[["row", "response_id", "theme", "source"]]], ignore_index=True).astype(CODED)
    topics = discovery.topics.assign(theme=[names[t] for t in discovery.topics["topic"]])  # a list: str when empty
    return coded, topics if len(topics) else _empty(TOPICS)


def topic_name(topic: int, terms: str) -> str:
    return f"Topic {topic}: " + ", ".join(terms.split(", ")[:3])


def _prevalence(con: duckdb.DuckDBPyConnection, threshold: int) -> pd.DataFrame:
    mentions = disclosure.protect(con.execute(sql("insight_theme_counts")).df(), count="mentioned",
                                  threshold=threshold, key="ckey")
    commenters = disclosure.protect(con.execute(sql("insight_commenter_counts")).df(), count="commenters",
                                    threshold=threshold, key="ckey")
    out = groups.prevalence(mentions, commenters)
    out["last_heard"] = out["last_heard"].where(~out["withheld"])  # a withheld cell says nothing, not even when
    return out[["source", "dimension", "grp", "theme", "mentioned", "commenters", "share", "share_low", "share_high",
                "withheld", "last_heard"]]


def _no_rows() -> pd.DataFrame:
    return pd.DataFrame(columns=["dimension", "grp", "theme", "log_odds", "z", "rank", "source"])


def _codebook_table(codebook: dict[str, tuple[str, ...]], given: pd.DataFrame | None) -> pd.DataFrame:
    source = "codebook.csv" if given is not None and len(given) else "built in"
    return pd.DataFrame({"theme": list(codebook), "phrases": ["; ".join(p) for p in codebook.values()],
                         "source": source})


def _topics(topics: pd.DataFrame, prevalence: pd.DataFrame) -> pd.DataFrame:
    whole = prevalence[(prevalence["source"] == DISCOVERED) & (prevalence["dimension"] == "all")]
    out = topics.merge(whole[["theme", "mentioned", "share", "withheld"]], on="theme", how="left")
    out["withheld"] = out["withheld"].fillna(True).astype(bool)
    return out[["topic", "theme", "terms", "like_theme", "mentioned", "share", "withheld"]]


def _quotes(con: duckdb.DuckDBPyConnection, comments: pd.DataFrame, coded: pd.DataFrame,
            prevalence: pd.DataFrame, score: pd.Series, threshold: int) -> pd.DataFrame:
    """Consented comments, redacted and checked, under each codebook theme and group they belong to, where the
    group's count is published *and* truly holds at least `threshold` people mentioning the theme (a published
    count may be a smaller one moved up to the threshold, and a quote says more than a count)."""
    columns = ["theme", "dimension", "grp", "quote", "sentiment"]
    consented = comments.index[comments["consent_to_quote"].str.strip().str.lower() == "yes"]
    mine = coded[(coded["source"] == "codebook") & coded["row"].isin(consented)]
    if mine.empty:
        return pd.DataFrame(columns=columns)
    rows = mine["row"].unique()
    quote = pd.Series([redact.safe_quote(t) for t in comments["text"].to_numpy()[rows]], index=rows)
    mine = mine.assign(quote=mine["row"].map(quote)).dropna(subset=["quote"])
    where = con.execute("SELECT dimension, grp, response_id FROM insight_groups").df()
    shown = prevalence.loc[(prevalence["source"] == "codebook") & ~prevalence["withheld"], ["dimension", "grp", "theme"]]
    everyone = coded[coded["source"] == "codebook"].merge(where, on="response_id")
    sizes = everyone.groupby(["theme", "dimension", "grp"])["response_id"].nunique()
    shown = shown[shown.set_index(["theme", "dimension", "grp"]).index.map(sizes).fillna(0) >= threshold]
    out = mine.merge(where, on="response_id").merge(shown, on=["dimension", "grp", "theme"])
    out = out.sort_values(["theme", "dimension", "grp", "row"]).groupby(["theme", "dimension", "grp"]).head(MAX_QUOTES)
    out["sentiment"] = score.to_numpy()[out["row"].to_numpy(dtype=int)]
    return out[columns]


def _summary(coded: pd.DataFrame, prevalence: pd.DataFrame, score: pd.Series) -> pd.DataFrame:
    """Each theme across the partnership, with the mean sentiment of the comments that mention it."""
    whole = prevalence[prevalence["dimension"] == "all"].drop(columns=["dimension", "grp", "commenters"])
    mood = coded.assign(sentiment=score.to_numpy()[coded["row"].to_numpy(dtype=int)]).groupby(
        ["source", "theme"], as_index=False)["sentiment"].mean()
    out = whole.merge(mood, on=["source", "theme"], how="left")
    out["sentiment"] = out["sentiment"].where(~out["withheld"])
    return out


def _stories(stories: pd.DataFrame) -> pd.DataFrame:
    """Stories people may still see (withdrawn ones vanish here, before the store), with personal details out."""
    kept = stories[stories["consent"].str.strip() != "withdrawn"].copy()
    for column in ("title", "summary", "teller"):
        kept[column] = kept[column].map(redact.redact)
    return kept
