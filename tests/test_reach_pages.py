"""The engagement pages on the demonstration pack with every value of each filter, including combinations
that leave nothing to show: no exception, and no count under the threshold anywhere a viewer can reach."""
from __future__ import annotations

import pytest

from analytics import home, reach
from tests.apptest import run, small_counts


def views(demo) -> list[dict[str, str]]:
    options = reach.ledger_options(demo)
    localities = list(home.localities(demo)["locality"])
    return ([{"method": m} for m in options["method"]] + [{"partner": p} for p in options["partner"]]
            + [{"locality": x} for x in localities]
            # A partner that worked in one locality only, seen from another: no activities at all.
            + [{"partner": "Eastfield Community Health Project", "locality": "Westhaven"}])


@pytest.mark.slow
def test_engagement_reach_with_every_filter_value(demo_env, demo):
    for params in views(demo):
        at = run("pages/2_Engagement_reach.py", params)
        assert not at.exception, (params, [e.message for e in at.exception])
        assert all(at.query_params[k] in (v, [v]) for k, v in params.items()), params  # the view was applied
        assert not small_counts(at), params


def test_an_empty_view_says_so(demo_env):
    at = run("pages/2_Engagement_reach.py", {"partner": "Eastfield Community Health Project", "locality": "Westhaven"})
    assert not at.exception
    assert sum("No activities match these filters." in c.value for c in at.caption) == 2  # method mix, timeline


@pytest.mark.slow
def test_hard_to_reach_with_every_locality(demo_env, demo):
    for params in [{"locality": x} for x in home.localities(demo)["locality"]] + views(demo)[-1:]:
        at = run("pages/3_Hard_to_reach.py", params)
        assert not at.exception, (params, [e.message for e in at.exception])
        assert not small_counts(at), params
