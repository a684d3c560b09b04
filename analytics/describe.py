"""Plain-English descriptions of charts, generated from the same data the chart draws (alt text and the
sentences under each chart)."""
from __future__ import annotations

import pandas as pd


def _place(locality: str) -> str:
    return "across the partnership" if locality == "All" else f"in {locality}"


def age_profile(summary: pd.DataFrame, locality: str) -> str:
    """From needs.age_summary."""
    row = summary.set_index("locality").loc[locality]
    whole = summary.set_index("locality").loc["All"]
    text = (f"{row['share_65']:.1f}% of the {row['residents']:,.0f} residents {_place(locality)} are aged 65 or "
            f"over ({row['aged_65']:,.0f} people) and {row['share_85']:.1f}% are 85 or over.")
    if locality != "All":
        compare = "more" if row["share_65"] > whole["share_65"] else "fewer"
        text += f" That is {compare} older people than the partnership as a whole ({whole['share_65']:.1f}% aged 65+)."
    return text


def projection_lines(groups: pd.DataFrame, locality: str, variant: str, year: int) -> str:
    """From needs.projection_by_age_group."""
    first = int(groups["year"].min())
    at = groups[groups["year"] == year].set_index("age_group")["index"] - 100
    fastest = at.idxmax()
    text = (f"Under the {variant} projection, from {first} to {year} the number of residents aged {fastest} "
            f"{_change(at[fastest])} {_place(locality)}, the fastest change of any age group")
    slowest = at.idxmin()
    return text + f"; residents aged {slowest} {_change(at[slowest])}."


def _change(percent: float) -> str:
    if abs(percent) < 0.5:
        return "stays about the same"
    return f"{'grows' if percent > 0 else 'falls'} by {abs(percent):.0f}%"


def deprivation(profile: pd.DataFrame, locality: str) -> str:
    """From needs.deprivation_profile."""
    share = profile[(profile["locality"] == locality) & (profile["quintile"] == 1)]["share"].sum()
    ranked = profile[(profile["quintile"] == 1) & (profile["locality"] != "All")].sort_values("share")
    most = ranked.iloc[-1] if len(ranked) else None
    text = f"{share:.0f}% of residents {_place(locality)} live in the most deprived fifth of areas (quintile 1)."
    if most is not None:
        text += f" The share is highest in {most['locality']} ({most['share']:.0f}%)."
    return text


def need_map(frame: pd.DataFrame, label: str, year: int, names: pd.Series | None = None) -> str:
    """From needs.need_by_area: the spread of the need index and where the highest-need areas are."""
    top = frame.nlargest(max(1, len(frame) // 10), "need_index")
    where = top["locality"].value_counts()
    return (f"{label} in {year}: the need index ranges from {frame['need_index'].min():.0f} to "
            f"{frame['need_index'].max():.0f} (partnership = 100). Of the {len(top)} highest-need areas, "
            f"{where.iloc[0]} are in {where.index[0]}.")


def need_table(table: pd.DataFrame, locality: str, year: int) -> str:
    """From needs.need_table."""
    row = table.sort_values("growth").iloc[-1]
    return (f"{_place(locality).capitalize()}, the largest projected growth by {year} is in "
            f"{row['label'].lower()}: {row['base']:,.0f} to {row['projected']:,.0f} people ({row['growth']:+.0f}%).")
