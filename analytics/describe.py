"""Plain-English descriptions of charts, generated from the same data the chart draws (alt text and the
sentences under each chart)."""
from __future__ import annotations

import pandas as pd

from analytics.metrics import display, name_codes


def _place(locality: str) -> str:
    return "across the partnership" if locality == "All" else f"in {locality}"


def _plural(count: float, word: str, many: str | None = None) -> str:
    """'1 activity', '24 activities' (issue 20: '1 activities')."""
    return f"{count:,.0f} {word if round(count) == 1 else many or word + 's'}"


def _first_up(text: str) -> str:
    """The first letter capitalised and nothing else ('In Eastfield', not str.capitalize's 'In eastfield')."""
    return text[:1].upper() + text[1:]


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
    text = (f"{label} in {year}: the need index ranges from {frame['need_index'].min():.0f} to "
            f"{frame['need_index'].max():.0f} (partnership = 100).")
    if frame["locality"].nunique() < 2:  # one locality shown: where the highest-need areas are says nothing
        return text
    return text + f" Of the {len(top)} highest-need areas, {where.iloc[0]} are in {where.index[0]}."


def need_table(table: pd.DataFrame, locality: str, year: int) -> str:
    """From needs.need_table."""
    row = table.sort_values("growth").iloc[-1]
    return (f"{_first_up(_place(locality))}, the largest projected growth by {year} is in "
            f"{row['label'].lower()}: {row['base']:,.0f} to {row['projected']:,.0f} people ({row['growth']:+.0f}%).")


def representation(table: pd.DataFrame, what: str) -> str:
    """From reach.representation: which groups are under- and over-represented, and which miss their target."""
    under = table.loc[table["flag"] == "under", "group"].tolist()
    over = table.loc[table["flag"] == "over", "group"].tolist()
    short = table.loc[table["flag"] == "under target", "group"].tolist()
    text = f"By {what}: "
    text += f"under-reached: {_list(under)}. " if under else "no group is clearly under-reached. "
    text += f"Over-represented: {_list(over)}." if over else "No group is clearly over-represented."
    if short:
        text += f" Fewer heard than the target: {_list(short)}."
    withheld = int(table["withheld"].sum())
    if withheld:
        text += f" {withheld} group(s) have figures withheld because the numbers are small."
    return text


def gap_meaning(band: tuple[float, float]) -> str:
    """What 'under-reached' means on Hard to reach and Home, in one sentence."""
    return ("Under-reached: fewer heard than the group's share of residents and need, by a ratio below "
            f"{band[0]:g}, and not by chance (Holm's method at 5% across each kind of group, with intervals "
            "that allow for people coming in activities), or fewer heard than a community's target. Shortfall "
            "intervals are 95%.")


def flags(design: dict[str, float], table: pd.DataFrame, band: tuple[float, float]) -> str:
    """What an interval and a flag mean, from reach.clustering and reach.representation: one sentence each."""
    groups = int((~table["flag"].isin(["under target", "target met", "no denominator"])).sum())
    surveys = design["open_surveys"]
    came = (f"Respondents came in {_plural(design['activities'], 'activity', 'activities')}"
            + (f" and {surveys:,.0f} open partnership-wide survey{'s' if surveys != 1 else ''}, whose answers count "
               "one by one" if surveys else ""))
    wider = (f"so the 95% intervals are {design['wider']:.1f} times as wide as if everyone had answered on their "
             "own" if design["wider"] >= 1.05 else "which barely widens the 95% intervals")
    return (f"{came}; people who come to the same activity tend to be alike, {wider}. "
            f"A group is flagged under or over only when chance is ruled out across all {groups} groups at once "
            f"(Holm's method, 5%) and its ratio is below {band[0]:g} or above {band[1]:g}; groups with a target "
            "instead of a population estimate are compared with the target.")


def _list(items: list[str], most: int = 6) -> str:
    shown = items[:most]
    more = f" and {len(items) - most} more" if len(items) > most else ""
    return ", ".join(shown) + more


def coverage(table: pd.DataFrame) -> str:
    """From reach.coverage_by_locality."""
    shown = table.dropna(subset=["per_1000"])
    if shown.empty:
        return "Response rates are withheld because the numbers are small."
    high, low = shown.loc[shown["per_1000"].idxmax()], shown.loc[shown["per_1000"].idxmin()]
    if len(shown) == 1 or high["locality"] == low["locality"]:  # not "from 0.1 in Eastfield to 0.1 in Eastfield"
        text = f"The response rate is {high['per_1000']:.1f} per 1,000 residents in {high['locality']}."
    else:
        text = (f"Response rates range from {low['per_1000']:.1f} per 1,000 residents in {low['locality']} to "
                f"{high['per_1000']:.1f} in {high['locality']}.")
    for word, places in (("below", shown.loc[shown["flag"] == "below", "locality"].tolist()),
                         ("above", shown.loc[shown["flag"] == "above", "locality"].tolist())):
        if places:
            text += f" Clearly {word} their share of residents: {_list(places)}."
    return text


def gap(row: pd.Series) -> str:
    """One plain-English sentence for a hard-to-reach gap (a row of reach.hard_to_reach)."""
    who = row["group"]
    if row["withheld"]:
        heard = "fewer than the disclosure threshold"
        short = f"a shortfall of more than {max(row['rank_value'], 0):,.0f}"
    else:
        heard = f"{row['respondents']:,.0f}"
        short = (f"a shortfall of {row['shortfall']:,.0f} (95% interval {row['shortfall_low']:,.0f} to "
                 f"{row['shortfall_high']:,.0f})")
    if row["flag"] in ("under target", "target met"):  # a goal, not an estimate: no interval to give
        text = f"{who} ({row['kind'].lower()}): we heard from {heard} people against a target of {row['expected']:,.0f}."
    else:
        text = (f"{who} ({row['kind'].lower()}): we heard from {heard} people where {row['expected']:,.0f} would be "
                f"in proportion to their share of population and need — {short}.")
    how = name_codes("; ".join(x for x in (row["best_methods"], row["best_partners"]) if x))
    return text + (f" What reached them best elsewhere: {how}." if how else "")


def bivariate(frame: pd.DataFrame) -> str:
    """From home.need_reach."""
    gap = frame[frame["category"] == "High need, low reach"]
    where = gap["locality"].value_counts()
    text = (f"{len(gap)} of {len(frame)} neighbourhoods combine high need with low reach "
            f"({gap['residents'].sum():,.0f} residents)")
    return text + (f", most of them in {where.index[0]} ({where.iloc[0]})." if len(where) else ".")


def fatigue(contacts: pd.DataFrame, window: int) -> str:
    """From fatigue.contacts."""
    flagged = contacts[contacts["flag"] != ""]
    if flagged.empty:
        return f"No locality or community was asked too often in any {window}-day window."
    parts = [f"{r.group} ({_plural(r.busiest_window, 'activity', 'activities')} in {window} days from "
             f"{r.window_start:%-d %b %Y})"
             for r in flagged.itertuples()]
    return "**Asked too often:** " + "; ".join(parts) + "."


def method_mix(mix: pd.DataFrame) -> str:
    """From reach.method_mix."""
    shown = mix.dropna(subset=["participants"])
    if shown.empty:
        return "No activities match these filters." if mix.empty else "Participant numbers are withheld (small)."
    top = shown.loc[shown["participants"].idxmax()]
    return (f"{display(top['method'])} reached the most participants "
            f"({top['participants']:,.0f}).")


def timeline(months: pd.DataFrame) -> str:
    """From reach.timeline."""
    if months.empty:
        return "No activities match these filters."
    busiest = months.groupby("month")["activities"].sum()
    return (f"The busiest month was {busiest.idxmax():%B %Y}, with "
            f"{_plural(busiest.max(), 'activity', 'activities')} starting.")


def changes(table: pd.DataFrame) -> str:
    """From trends.changes: which groups' representation clearly rose or fell between the first and last quarter."""
    if table.empty:
        return "One quarter only: choose a longer period to see change."
    first, last = table["first_quarter"].iloc[0], table["last_quarter"].iloc[0]
    text = f"Between {first} and {last}, "
    rose = table.loc[table["trend"] == "rose", "group"].tolist()
    fell = table.loc[table["trend"] == "fell", "group"].tolist()
    if not rose and not fell:
        text += ("no group's representation changed by more than chance would explain (a quarter hears fewer "
                 "people than the whole period, so its intervals are wider).")
    else:
        parts = [f"representation clearly rose for {_list(rose)}" if rose else "",
                 f"clearly fell for {_list(fell)}" if fell else ""]
        text += "; ".join(p for p in parts if p) + "."
    unknown = int(table["trend"].str.startswith("not").sum())
    if unknown:
        text += f" {_plural(unknown, 'group')} cannot be compared (withheld in a quarter, or measured against a target)."
    return text


def side_by_side(table: pd.DataFrame, places: tuple[str, str]) -> str:
    """From trends.side_by_side: groups under-reached in one place but not the other."""
    names = tuple("the whole partnership" if p == "All" else p for p in places)
    one = set(table.loc[table["flag_1"] == "under", "group"])
    two = set(table.loc[table["flag_2"] == "under", "group"])
    parts = [f"under-reached in {names[0]} only: {_list(sorted(one - two))}" if one - two else "",
             f"under-reached in {names[1]} only: {_list(sorted(two - one))}" if two - one else "",
             f"under-reached in both: {_list(sorted(one & two))}" if one & two else ""]
    text = "; ".join(p for p in parts if p)
    return _first_up(text) + "." if text else f"No group is clearly under-reached in {names[0]} or in {names[1]}."


def theme_prevalence(table: pd.DataFrame, theme: str, overall: float, what: str) -> str:
    """From insight.library.prevalence for one theme, and its share among everyone who commented."""
    shown = table.dropna(subset=["share"])
    text = f"{theme}: mentioned by {overall:.0%} of everyone who commented."
    if len(shown) > 1:
        high, low = shown.loc[shown["share"].idxmax()], shown.loc[shown["share"].idxmin()]
        text += (f" By {what}, from {low['share']:.0%} ({low['grp']}) to {high['share']:.0%} ({high['grp']}); "
                 "groups whose intervals overlap may not differ.")
    withheld = int(table["withheld"].sum())
    return text + (f" {_plural(withheld, 'group')} withheld (small numbers)." if withheld else "")
