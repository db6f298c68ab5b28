"""Differential privacy: the mechanism, the post-processing, and the bounded counts."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import opendp.prelude as dp
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import select

from referral.casework.models import Referral
from referral.db import get_db
from referral.directory.catalogue import current_catalogue
from referral.stats import privacy
from referral.stats.bounded import MAX_REFERRALS, bounded_counts, public_codes
from referral.stats.operations import CATEGORIES, Scope, annual_summary, summary_codes
from tests.factories import Person, random_people, record_data, store


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-50, 200), min_size=1, max_size=30), st.integers(-50, 2000))
def test_post_processing_gives_non_negative_whole_numbers_that_add_up(cells, total) -> None:
    out = privacy.project(cells, total)
    assert len(out) == len(cells)
    assert all(isinstance(v, int) and v >= 0 for v in out)
    assert sum(out) == max(total, 0)


def test_post_processing_keeps_consistent_counts_and_drops_noise_on_zeros() -> None:
    assert privacy.project([5, 0, 7], 12) == [5, 0, 7]
    assert privacy.project([40, 3, -2, 1], 40) == [39, 1, 0, 0]


def test_margins_are_opendps_accuracy_and_hold_95_times_in_100() -> None:
    dp.enable_features("contrib")
    for scale in (1.0, 2.5, 7.0):
        assert privacy.margin(scale) == int(dp.discrete_laplacian_scale_to_accuracy(scale, 0.05))
    assert privacy.margin(4.0, 5) > privacy.margin(4.0)  # a sum of five carries more noise
    # Drawn with OpenDP itself: the share of draws within the margin.
    draws = privacy.noisy_vector([0] * 4000 + [0], bound=1, epsilon=0.5)  # scale 4
    inside = sum(1 for v in draws if abs(v) <= privacy.margin(4.0))
    assert 0.93 < inside / len(draws) < 0.975


def test_a_table_costs_its_epsilon() -> None:
    # OpenDP checks the cost; a release of a table with a larger bound has a larger scale.
    small = privacy.noisy_table({"a": 3}, ("a", "b"), bound=1, epsilon=1.0)
    large = privacy.noisy_table({"a": 3}, ("a", "b"), bound=3, epsilon=1.0)
    assert small.scale == 2.0 and large.scale == 6.0


def test_bounded_counts_are_the_exact_counts_within_the_bounds(app, make_user) -> None:
    screener = make_user("screener", ("MX-CHP",))
    people = random_people(21, 120, years=(2024,))
    store(app, people, screener.id)
    with app.app_context(), get_db(app).transaction(write=False) as session:
        catalogue = current_catalogue(session)
        exact = annual_summary(session, 2024, Scope(), summary_codes(catalogue))
        counts = bounded_counts(session, 2024, None, public_codes(catalogue))
    assert sum(counts["victims_by_category"].values()) == exact["victims"]["total"]
    for form, row in exact["victims"]["by_form"].items():
        for category in CATEGORIES:
            assert counts["victims_by_form"].get(f"{form}|{category}", 0) == row[category]
    assert counts["foreign_by_nationality"] == exact["foreign_victims"]["by_nationality"]
    assert {k: v for k, v in exact["referrals"]["by_status"].items() if v} == counts[
        "referrals_by_status"
    ]  # the helpers make at most two referrals a person: under the bound
    assert sum(counts["gaps_by_kind"].values()) <= exact["gaps"]["total"]


def test_a_case_adds_at_most_its_bound(app, make_user) -> None:
    screener = make_user("screener", ("MX-CHP",))
    victim = Person(
        [record_data(age=15, state="MX-CHP", indicators=["commercial_sex"])],
        [datetime(2024, 4, 1, tzinfo=UTC)],
        referrals=[("shelter", "requested")] * 2 + [("medical", "accepted")] * 3,
    )
    store(app, [victim], screener.id)
    with app.app_context(), get_db(app).transaction(write=False) as session:
        counts = bounded_counts(session, 2024, "MX-CHP", public_codes(current_catalogue(session)))
        assert len(session.exec(select(Referral)).all()) == 5
    assert sum(counts["referrals_by_status"].values()) == MAX_REFERRALS
    # The earliest referrals are the ones kept.
    assert Counter(counts["referrals_by_status"]) == Counter({"requested": 2, "accepted": 1})
