"""Input no database could take is refused at the boundary, never a 500."""

from __future__ import annotations

from tests.conftest import Api


def test_an_id_larger_than_an_integer_column_is_a_404(api: Api):
    for path in ("/api/v1/items/99999999999999999999", f"/api/v1/items/{2**31}", f"/api/v1/locations/{2**40}"):
        r = api.get(path, expect=404)
        assert r.json["error"]["code"] == "not_found"
    assert api.get(f"/api/v1/items/{2**31 - 1}", expect=404).json["error"]["code"] == "item_not_found"


def test_text_with_a_lone_surrogate_is_a_422(api: Api):
    r = api.post("/api/v1/items", {"name": "Syringe \ud800"}, role="manager", expect=422)
    assert r.json["error"]["code"] == "validation_failed"
    api.post("/api/v1/items", {"name": "Syringe", "gtins": ["\udfff"]}, role="manager", expect=422)
    assert api.get("/api/v1/items?gtin=%ED%A0%80").status_code < 500  # the URL decoder replaces bad UTF-8
    assert api.post("/api/v1/items", {"name": "Spritze für Kinder"}, role="manager", expect=201)
