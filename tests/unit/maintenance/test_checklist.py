"""A result list answers a checklist exactly: names compared case- and spacing-blind, otherwise exactly."""

from __future__ import annotations

import unicodedata

from inventory_service.domain.maintenance.checklist import Mismatch, duplicates, item_key, mismatch, passed


def test_a_misspelt_item_is_both_missing_and_unknown():
    gap = mismatch(["Bowie-Dick test"], ["Bowie-Dik test"])
    assert gap == Mismatch(missing=["Bowie-Dick test"], unknown=["Bowie-Dik test"], duplicated=[])
    assert "'Bowie-Dick test'" in gap.describe() and "'Bowie-Dik test'" in gap.describe()


def test_case_and_whitespace_do_not_matter():
    assert not mismatch(["Bowie-Dick test"], ["  bowie-dick\u00a0\tTEST "])


def test_unicode_case_folding_and_canonical_equivalence_match():
    assert item_key("Türdichtung STRASSE") == item_key("türdichtung straße")
    composed, decomposed = "Prüfung", unicodedata.normalize("NFD", "Prüfung")
    assert composed != decomposed and item_key(composed) == item_key(decomposed)


def test_every_item_needs_a_result_and_none_may_repeat():
    gap = mismatch(["Bowie-Dick test", "Door seal", "Drain filter"], ["door seal", "Door  Seal", "Drain filter"])
    assert gap.missing == ["Bowie-Dick test"]
    assert gap.unknown == []
    assert gap.duplicated == ["Door  Seal"]


def test_an_empty_checklist_takes_any_results_once_each():
    assert not mismatch([], ["Replaced the door seal"])
    assert mismatch([], ["a", "A"]).duplicated == ["A"]


def test_duplicates_are_listed_once():
    assert duplicates(["x", "X", "x ", "y"]) == ["X"]


def test_a_fail_anywhere_is_a_fail_and_n_a_is_not():
    assert passed(["pass", "n/a"])
    assert not passed(["pass", "fail", "n/a"])
    assert passed([])
