"""The sandbox's query language helpers: which fields, operators and sorts a query may use."""

from __future__ import annotations

import pytest

from wix_sandbox.errors import SandboxError
from wix_sandbox.query import filter_terms, require_filterable, require_sortable, run_query

ITEMS = [{"id": "a", "n": 1}, {"id": "b", "n": 2}]


def code(exc: pytest.ExceptionInfo[SandboxError]) -> str:
    return exc.value.code


def test_filter_terms_name_each_field_and_operator_through_logic() -> None:
    flt = {"id": "a", "$or": [{"n": {"$gte": 1, "$lt": 3}}, {"$not": {"tag": {"$in": ["x"]}}}]}

    assert sorted(filter_terms(flt)) == [("id", "$eq"), ("n", "$gte"), ("n", "$lt"), ("tag", "$in")]


def test_an_unlisted_field_is_refused() -> None:
    with pytest.raises(SandboxError) as exc:
        require_filterable({"$and": [{"id": "a"}, {"updatedDate": {"$gte": "x"}}]}, ["id"], "Query Things")

    assert exc.value.status == 400 and code(exc) == "UNSUPPORTED_FILTER_FIELD"
    assert exc.value.data == {"fields": ["updatedDate"]}


def test_listed_operators_are_enforced_when_given() -> None:
    allowed = {"id": ("$eq", "$in"), "n": ("$gt",)}
    require_filterable({"id": {"$in": ["a"]}, "n": {"$gt": 1}}, allowed, "Query Things")

    with pytest.raises(SandboxError) as exc:
        require_filterable({"n": 1}, allowed, "Query Things")  # a bare value is $eq

    assert code(exc) == "UNSUPPORTED_FILTER_OPERATOR"


def test_once_refuses_a_field_in_two_conditions_but_not_two_operators_in_one() -> None:
    require_filterable({"n": {"$gt": 0, "$lt": 5}}, ["n"], "Q", once=True)
    require_filterable({"$and": [{"n": 1}, {"n": 2}]}, ["n"], "Q")  # without once: fine

    with pytest.raises(SandboxError) as exc:
        require_filterable({"$and": [{"n": {"$gt": 0}}, {"n": {"$lt": 5}}]}, ["n"], "Q", once=True)

    assert code(exc) == "UNSUPPORTED_FILTER"


def test_sort_fields_are_checked() -> None:
    require_sortable([{"fieldName": "n", "order": "ASC"}], ["n"], "Q")

    with pytest.raises(SandboxError) as exc:
        require_sortable([{"fieldName": "id"}], ["n"], "Q")

    assert code(exc) == "UNSUPPORTED_SORT_FIELD"


def test_run_query_applies_the_filterable_list() -> None:
    page, _ = run_query(ITEMS, {"filter": {"n": {"$gt": 1}}}, filterable=["n"], api="Q")
    assert page == [ITEMS[1]]

    with pytest.raises(SandboxError):
        run_query(ITEMS, {"filter": {"id": "a"}}, filterable=["n"], api="Q")
