"""The total a page reports: exact where the page itself knows it, an estimate kept true to what the page saw."""
import pytest

from taskwire_common import pagination
from taskwire_common.pagination import EstimatedTotal, page_total


def no_query(statement, params):
    raise AssertionError("the page knew its total and should not have asked the database")


def total(page, shown, more, counted, scalar=no_query):
    return page_total(scalar, None, {}, page, 20, shown, more, counted)


def test_a_page_with_no_row_after_it_is_the_end_and_knows_the_exact_total():
    assert total(page=3, shown=7, more=False, counted=EstimatedTotal(5000)) == 47
    assert not isinstance(total(page=3, shown=7, more=False, counted=EstimatedTotal(5000)), EstimatedTotal)
    assert total(page=1, shown=0, more=False, counted=None) == 0


def test_an_exact_count_is_kept():
    assert total(page=1, shown=20, more=True, counted=300) == 300


@pytest.mark.parametrize("page,estimate,expected", [
    (1, 1001, 1001),    # the estimate is above what the page saw
    (60, 1001, 1201),   # stale low: the rows before, this page and the one that follows
    (60, 5000, 5000),
])
def test_an_estimate_with_a_row_after_the_page_covers_that_row(page, estimate, expected):
    reported = total(page=page, shown=20, more=True, counted=EstimatedTotal(estimate))
    assert isinstance(reported, EstimatedTotal) and reported == expected
    last = -(-reported // 20)
    assert last > page  # so the Link header has rel="next"


def test_a_page_past_the_end_of_an_estimate_puts_last_back_inside_the_list(monkeypatch):
    asked = []

    def scalar(statement, params):
        asked.append(statement)
        return 1001 if len(asked) == 1 else [{"Plan": {"Plan Rows": 9000}}]

    monkeypatch.setattr(pagination, "capped_count", lambda statement: "count")
    monkeypatch.setattr(pagination, "explain", lambda statement: "explain")
    reported = total(page=100, shown=0, more=False, counted=None, scalar=scalar)
    assert asked == ["count", "explain"]
    assert isinstance(reported, EstimatedTotal) and reported == 99 * 20


def test_a_page_past_the_end_of_an_exact_count_keeps_it(monkeypatch):
    monkeypatch.setattr(pagination, "capped_count", lambda statement: "count")
    assert total(page=9, shown=0, more=False, counted=None, scalar=lambda statement, params: 6) == 6
