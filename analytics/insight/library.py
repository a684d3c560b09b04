"""What the Insight library page asks: search, themes by group, "you said, we did" and stories, read from the
tables the build wrote (analytics.insight.store). Nothing here counts people: every count was published at build.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.db import Store
from analytics.schema import split_list

DIMENSIONS = {"community": "Community", "locality": "Locality", "quintile": "Deprivation quintile",
              "age_group": "Age group"}
STATUS_LABELS = {"planned": "Planned", "in_progress": "In progress", "done": "Done", "not_taken": "Not taken"}
KINDS = {"insight": "Insight", "theme": "Theme", "story": "Story"}


class LibraryInputError(ValueError):
    """A choice the library does not offer (a dimension or source), in words a viewer can act on."""


def shown_date(value: object) -> str:
    """A date as a page writes it: 'YYYY-MM-DD', or 'not dated' for a blank."""
    return "not dated" if value is None or str(value) in ("", "NaT", "None", "nan") else str(value)[:10]


def themes(con: Store, source: str = "codebook") -> pd.DataFrame:
    """Themes across the partnership. Columns: theme, mentioned (people, published), share, share_low, share_high
    (of people who left a comment), withheld, sentiment (mean VADER compound), last_heard, words."""
    frame = con.query("insight_theme_list")
    return frame[frame["source"] == _source(source)].drop(columns="source").reset_index(drop=True)


def prevalence(con: Store, dimension: str, theme: str | None = None, source: str = "codebook") -> pd.DataFrame:
    """Each theme's share of a kind of group's commenters. Columns: grp, theme, mentioned, commenters, share,
    share_low, share_high (Wilson 95%, from published counts), withheld, last_heard."""
    if dimension not in (*DIMENSIONS, "all"):
        raise LibraryInputError(f"unknown group '{dimension}'; choose one of {', '.join(DIMENSIONS)}")
    frame = con.query("insight_prevalence", source=_source(source), dimension=dimension)
    return frame[frame["theme"] == theme].reset_index(drop=True) if theme else frame


def distinctive(con: Store, dimension: str, grp: str, source: str = "codebook") -> pd.DataFrame:
    """Themes that set `grp`'s comments apart (Monroe et al.'s weighted log-odds). Columns: theme, log_odds, z,
    rank (1 = most distinctive)."""
    return con.query("insight_distinctive", source=_source(source), dimension=dimension, grp=str(grp))


def quotes(con: Store, theme: str, dimension: str = "all", grp: str = "All") -> pd.DataFrame:
    """Consented, redacted quotes under a theme from a published group. Columns: quote, sentiment."""
    return con.query("insight_quotes", theme=theme, dimension=dimension, grp=str(grp))


def topics(con: Store) -> pd.DataFrame:
    """Discovery's proposals. Columns: topic, theme, terms, like_theme, mentioned, share, withheld."""
    return con.query("insight_topic_list")


def groups(con: Store, dimension: str) -> list[str]:
    """The groups of a kind that have published figures (for a chooser)."""
    frame = prevalence(con, dimension)
    return sorted(frame.loc[~frame["withheld"].astype(bool), "grp"].unique(), key=_group_order)


def _group_order(grp: str) -> tuple:
    return (0, int(grp)) if str(grp).isdigit() else (1, str(grp))


def _source(source: str) -> str:
    if source not in ("codebook", "discovered"):
        raise LibraryInputError(f"unknown theme source '{source}'; use codebook or discovered")
    return source


def insights(con: Store) -> pd.DataFrame:
    """Every insight with its response: insight_id, title, summary, published_on, locality, communities,
    priorities, themes, source, link, activity, actions (how many), status (the furthest any action got: done,
    in progress, planned, not taken, or 'no response yet'), reported_back_on."""
    found, acts = con.query("insight_insights"), con.query("insight_actions")
    order = {s: i for i, s in enumerate(("done", "in_progress", "planned", "not_taken"))}
    by_insight = acts.assign(order=acts["status"].map(order)).groupby("insight_id").agg(
        actions=("action_id", "nunique"), order=("order", "min"), reported_back_on=("reported_back_on", "max"))
    out = found.merge(by_insight, left_on="insight_id", right_index=True, how="left")
    out["actions"] = out["actions"].fillna(0).astype(int)
    status = out["order"].map({i: STATUS_LABELS[s] for s, i in order.items()})
    out["status"] = status.fillna("No response yet")
    return out.drop(columns="order")


def actions(con: Store) -> pd.DataFrame:
    """Actions with the insight they answer: action_id, insight_id, title, decision, owner, status (label),
    reason, reported_back_on."""
    acts = con.query("insight_actions")
    titles = con.query("insight_insights")[["insight_id", "title"]]
    out = acts.merge(titles, on="insight_id", how="left")
    out["status"] = out["status"].map(STATUS_LABELS)
    return out[["action_id", "insight_id", "title", "decision", "owner", "status", "reason", "reported_back_on"]]


def response_summary(con: Store) -> dict[str, float]:
    """Insights, the share with a recorded response (any action) and the share reported back to people."""
    found = insights(con)
    n = len(found)
    return {"insights": n, "answered": (found["actions"] > 0).mean() if n else np.nan,
            "reported_back": found["reported_back_on"].notna().mean() if n else np.nan}


def stories(con: Store, board: bool = False) -> pd.DataFrame:
    """Stories a viewer may see: public ones; board-only ones too when `board` (a signed-in editor). Withdrawn
    stories are never in the store. Columns: story_id, title, summary, teller, communities, locality, priorities,
    consent, media, told_on."""
    return con.query("insight_stories", board=bool(board))


def filter_items(frame: pd.DataFrame, locality: str = "All", community: str = "All", priority: str = "All",
                 theme: str = "All", since: str | None = None, date: str = "published_on") -> pd.DataFrame:
    """Rows matching every filter ('All' matches anything; an item for the whole partnership matches any locality)."""
    keep = pd.Series(True, index=frame.index)
    if locality != "All" and "locality" in frame:
        keep &= frame["locality"].isin([locality, "All", ""])
    for column, wanted in (("communities", community), ("priorities", priority), ("themes", theme)):
        if wanted != "All" and column in frame:
            keep &= split_list(frame[column]).map(lambda items, w=wanted: w in items)
    if since and date in frame:
        keep &= pd.to_datetime(frame[date]) >= pd.Timestamp(since)
    return frame[keep].reset_index(drop=True)


def search(con: Store, query: str = "", board: bool = False, **filters: str) -> pd.DataFrame:
    """Insights, themes and stories ranked by TF-IDF cosine similarity to `query` (all, newest first, when it is
    blank), after `filters` (locality, community, priority, theme, since). Columns: kind, id, title, summary, date,
    locality, communities, priorities, themes, score."""
    items = filter_items(_documents(con, board), **filters, date="date")
    if not str(query).strip() or items.empty:
        return items.assign(score=np.nan).sort_values(["date", "kind"], ascending=[False, True],
                                                      na_position="last").reset_index(drop=True)
    from sklearn.feature_extraction.text import TfidfVectorizer
    text = items[["title", "summary", "themes", "communities"]].fillna("").astype(str).agg(" ".join, axis=1)
    vectoriser = TfidfVectorizer(stop_words="english", sublinear_tf=True)
    try:
        matrix = vectoriser.fit_transform(text)
    except ValueError:  # every word a stop word
        return items.assign(score=np.nan).head(0)
    score = (matrix @ vectoriser.transform([str(query)[:500]]).T).toarray().ravel()
    out = items.assign(score=score)
    return out[out["score"] > 0].sort_values(["score", "kind"], ascending=[False, True]).reset_index(drop=True)


def _documents(con: Store, board: bool) -> pd.DataFrame:
    """One row per thing to search: insights, published themes (their phrases as the summary) and stories."""
    found = insights(con).rename(columns={"insight_id": "id", "published_on": "date"}).assign(kind="insight")
    told = stories(con, board).rename(columns={"story_id": "id", "told_on": "date"}).assign(kind="story", themes="")
    said = themes(con)
    said = said[~said["withheld"].astype(bool)]
    named = pd.DataFrame({"kind": "theme", "id": said["theme"], "title": said["theme"], "summary": said["words"],
                          "date": said["last_heard"], "locality": "All", "communities": "", "priorities": "",
                          "themes": said["theme"]})
    columns = ["kind", "id", "title", "summary", "date", "locality", "communities", "priorities", "themes"]
    frames = [f[columns] for f in (found, named, told) if len(f)]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    out["date"] = pd.to_datetime(out["date"]).dt.date
    return out


def before_you_commission(con: Store, theme: str, community: str = "All") -> dict[str, object]:
    """What is already known on a theme (for a community): insights about it and the newest, people who mentioned
    it (published), and when they were last heard — read this before commissioning new engagement."""
    found = filter_items(insights(con), community=community, theme=theme)
    dimension, grp = ("all", "All") if community == "All" else ("community", community)
    cell = prevalence(con, dimension, theme)
    cell = cell[cell["grp"] == grp]
    shown = len(cell) and not bool(cell["withheld"].iloc[0])
    return {"insights": len(found), "latest": found["published_on"].max() if len(found) else None,
            "people": float(cell["mentioned"].iloc[0]) if shown else np.nan,
            "share": float(cell["share"].iloc[0]) if shown else np.nan,
            "last_heard": cell["last_heard"].iloc[0] if shown else None}


def options(con: Store) -> dict[str, list[str]]:
    """The choices the library's filters offer: localities, communities, priorities and themes named anywhere in it
    (public stories only, so a board-only story's community is not given away by a filter)."""
    docs = _documents(con, board=False)
    lists = {column: sorted({item for items in split_list(docs[column]) for item in items})
             for column in ("communities", "priorities", "themes")}
    places = sorted(set(docs["locality"].fillna("")) - {"", "All"})
    return {"localities": places, **lists}
