"""Places a Dutch crisis worker types, through the API on both engines (CONTRACT §4.2).

The table (tests/data/place_names.csv, 230+ names: cities, villages, namesakes, qualifiers,
Frisian names, postcodes, typos, islands, border towns, the Caribbean) was written from
knowledge of the country; every row must come out as written.
"""

import csv
from pathlib import Path

import pytest

from tests.factories import make_caller

TABLE = Path(__file__).resolve().parents[1] / "data" / "place_names.csv"


def name_table() -> list[dict[str, str]]:
    lines = [line for line in TABLE.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(lines))


def verdict(response, expected: str) -> str | None:
    """Return what is wrong with the answer to one row, or None."""
    if expected == "outside":
        if response.status_code != 422:
            return f"expected 422, got {response.status_code}"
        message = " ".join(response.get_json()["errors"]["q"])
        return None if "valt buiten dit netwerk" in message and "911" in message else message
    if response.status_code != 200:
        return f"status {response.status_code}"
    results = response.get_json()
    if not results:
        return "no results"
    first = results[0]
    if expected == "ambiguous":
        choices = [r for r in results if r["match"] == "choice"]
        return None if first["match"] == "choice" and len(choices) >= 2 else f"got {first}"
    if expected.startswith("abroad:"):
        ok = (first["match"], first["kind"], first["country"]) == ("exact", "abroad",
                                                                    expected[7:])
        return None if ok and first["region_code"] is None else f"got {first}"
    if expected.startswith("similar:"):
        ok = first["gemeente_code"] == expected[8:] and first["match"] != "choice"
        return None if ok else f"got {first}"
    ok = first["match"] == "exact" and first["gemeente_code"] == expected
    return None if ok and first["region_code"] else f"got {first}"


def test_the_name_table_comes_out_as_written(client, session, clock):
    rows = name_table()
    assert len(rows) >= 150
    assert {row["category"] for row in rows} >= {
        "city", "town", "namesake", "qualified", "frisian", "postcode", "typo", "island",
        "border", "caribbean"}
    headers = make_caller(session, clock, "crisis_worker").headers
    misses = []
    for row in rows:
        response = client.get("/api/v1/places", query_string={"q": row["query"]},
                              headers=headers)
        problem = verdict(response, row["expected"])
        if problem:
            misses.append((row["query"], row["expected"], problem))
    hits = len(rows) - len(misses)
    print(f"place names: {hits}/{len(rows)} as expected ({100 * hits / len(rows):.1f}%)")
    assert misses == []


def test_a_place_answer_has_the_contract_fields(client, session, clock):
    headers = make_caller(session, clock, "crisis_worker").headers
    body = client.get("/api/v1/places?q=Schiedam", headers=headers).get_json()
    first = body[0]
    assert {"name", "qualified_name", "gemeente_code", "gemeente_name", "region_code", "lat",
            "lon", "kind"} <= set(first)
    assert (first["gemeente_code"], first["region_code"], first["kind"]) == (
        "GM0606", "GM0622", "gemeente")
    zoetermeer = client.get("/api/v1/places?q=Zoetermeer", headers=headers).get_json()[0]
    assert zoetermeer["region_code"] == "GM0518"
    many = client.get("/api/v1/places?q=Hengelo&limit=2", headers=headers).get_json()
    assert [p["qualified_name"] for p in many] == ["Hengelo (Ov)", "Hengelo (Gld)"]


@pytest.mark.parametrize("query", ["", " ", "x" * 101])
def test_a_bad_query_is_422_naming_q(client, session, clock, query):
    headers = make_caller(session, clock, "crisis_worker").headers
    response = client.get("/api/v1/places", query_string={"q": query}, headers=headers)
    assert response.status_code == 422
    assert "q" in response.get_json()["errors"]
