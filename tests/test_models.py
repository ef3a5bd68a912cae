from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from notegen.records.models import PATTERN_HINTS, Demand, Incident, Note, State

INCIDENT = {
    "id": "x", "date": "2025-11-14", "place": "Kyiv", "country": "ua",
    "attributed_to": "ru", "impacts": [{"facility": "f", "effect": "damaged"}],
    "account": "a missile fell",
}


def test_text_may_be_given_per_language() -> None:
    names = {"en": "the Republic of Azerbaijan", "ru": "Азербайджанская Республика"}
    assert State(id="az", name=names).name == names


@pytest.mark.parametrize("name", ["", "   ", {}, {"english": "x"}, {"en": ""}, 5])
def test_bad_text_is_refused_in_one_plain_sentence(name: object) -> None:
    with pytest.raises(ValidationError) as info:
        State(id="az", name=name)
    errors = info.value.errors()
    assert len(errors) == 1
    assert errors[0]["loc"] == ("name",)


def test_ids_are_simple_lowercase_words() -> None:
    with pytest.raises(ValidationError) as info:
        State(id="Bad Id", name="x")
    [error] = info.value.errors()
    assert PATTERN_HINTS[error["ctx"]["pattern"]].startswith("an id is written in lower-case")


@pytest.mark.parametrize("time", ["01:00", "23:59"])
def test_times_are_written_hh_mm(time: str) -> None:
    assert Incident.model_validate({**INCIDENT, "time": time}).time == time


@pytest.mark.parametrize("time", [60, "1:00", "24:00", "01:00:00"])
def test_other_times_are_refused(time: object) -> None:
    # 60 is what YAML 1.1 makes of an unquoted 1:00.
    with pytest.raises(ValidationError, match='write the time as "HH:MM"'):
        Incident.model_validate({**INCIDENT, "time": time})


def test_a_series_lists_later_dates_only() -> None:
    incident = Incident.model_validate({**INCIDENT, "date": "2025-08-08",
                                        "also_on": ["2025-08-18"]})
    assert incident.last_date == dt.date(2025, 8, 18)
    with pytest.raises(ValidationError, match="also_on dates must come after date"):
        Incident.model_validate({**INCIDENT, "also_on": ["2025-11-01"]})


def test_an_incident_affects_at_least_one_facility() -> None:
    with pytest.raises(ValidationError, match="at least 1 item"):
        Incident.model_validate({**INCIDENT, "impacts": []})


def test_unknown_fields_are_errors_not_ignored() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        Incident.model_validate({**INCIDENT, "acount": "typo"})


def test_a_demand_of_kind_other_needs_its_wording() -> None:
    assert Demand(kind="investigation").text is None
    with pytest.raises(ValidationError, match='kind "other" needs its own text'):
        Demand(kind="other")


def test_earlier_incidents_are_listed_once() -> None:
    with pytest.raises(ValidationError, match="listed more than once: a"):
        Note.model_validate({
            "date": "2025-11-14", "sender": "s", "addressee": "a", "subject": "x",
            "earlier": ["a", "b", "a"], "protest": "protest", "demands": [{"kind": "explanation"}],
        })


# -- Numbers are finite and bounded, texts short and clean (issue 14, item 9). --

DISTANCE = {"facility": "f", "effect": "near_miss", "distance": {"value": 50}}


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan"), "1e999", "inf",
                                   "NaN", 10**40, 1e300])
def test_a_distance_is_a_finite_sane_number(value: object) -> None:
    incident = {**INCIDENT, "impacts": [{**DISTANCE, "distance": {"value": value}}]}
    with pytest.raises(ValidationError) as info:
        Incident.model_validate(incident)
    [error] = info.value.errors()
    assert error["loc"] == ("impacts", 0, "distance", "value")


@pytest.mark.parametrize(("field", "value"), [
    ("agents_harmed", 10**40), ("agents_harmed", 1_000_001), ("agents_harmed", float("inf")),
    ("casualties", {"killed": 10**40}), ("casualties", {"injured": float("nan")}),
    ("means", [{"kind": "missile", "count": 10**40}]),
    ("means", [{"kind": "missile", "count": float("inf")}]),
])
def test_counts_are_bounded(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as info:
        Incident.model_validate({**INCIDENT, field: value})
    [error] = info.value.errors()
    assert error["loc"][0] == field


def test_sane_numbers_still_pass() -> None:
    incident = Incident.model_validate({
        **INCIDENT, "agents_harmed": 3, "casualties": {"killed": 1_000_000},
        "means": [{"kind": "drone", "count": 40}],
        "impacts": [{**DISTANCE, "distance": {"value": 1.5, "unit": "km"}}]})
    assert incident.impacts[0].distance is not None
    assert incident.impacts[0].distance.value == 1.5


def test_a_text_is_capped_in_length() -> None:
    from notegen.records.models import MAX_TEXT_LENGTH

    assert Incident.model_validate({**INCIDENT, "account": "a" * MAX_TEXT_LENGTH}).account
    for account in ["a" * (MAX_TEXT_LENGTH + 1), {"en": "ok", "ru": "б" * 1_900_000}]:
        with pytest.raises(ValidationError) as info:
            Incident.model_validate({**INCIDENT, "account": account})
        [error] = info.value.errors()
        assert error["loc"] == ("account",)
        assert "characters long; a text may have at most 10,000" in error["msg"]


@pytest.mark.parametrize(("char", "named"), [
    ("\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE at character 4, a bidirectional control"),
    ("\u202a", "U+202A LEFT-TO-RIGHT EMBEDDING at character 4, a bidirectional control"),
    ("\u2066", "U+2066 LEFT-TO-RIGHT ISOLATE at character 4, a bidirectional control"),
    ("\u2069", "U+2069 POP DIRECTIONAL ISOLATE at character 4, a bidirectional control"),
    ("\u200f", "U+200F RIGHT-TO-LEFT MARK at character 4, a bidirectional control"),
    ("\u200b", "U+200B ZERO WIDTH SPACE at character 4, an invisible character"),
    ("\u200d", "U+200D ZERO WIDTH JOINER at character 4, an invisible character"),
    ("\u2060", "U+2060 WORD JOINER at character 4, an invisible character"),
    ("\ufeff", "U+FEFF ZERO WIDTH NO-BREAK SPACE at character 4, an invisible character"),
    ("\u2028", "U+2028 LINE SEPARATOR at character 4, an invisible character"),
    ("\x00", "U+0000 NULL at character 4, a control character"),
    ("\x07", "U+0007 BELL at character 4, a control character"),
    ("\x1b", "U+001B ESCAPE at character 4, a control character"),
    ("\x9b", "U+009B at character 4, a control character"),
    ("\x7f", "U+007F DELETE at character 4, a control character"),
    ("\ud800", "U+D800 at character 4, a lone surrogate"),
])
def test_hidden_characters_are_named_in_every_text_field(char: str, named: str) -> None:
    text = f"the{char} missile"
    fields: list[tuple[dict[str, object], tuple[object, ...]]] = [
        ({**INCIDENT, "account": text}, ("account",)),
        ({**INCIDENT, "place": {"en": "Kyiv", "ru": text}}, ("place",)),
        ({**INCIDENT, "damage": ["a car", text]}, ("damage", 1)),
        ({**INCIDENT, "means": [{"kind": "missile", "name": text}]}, ("means", 0, "name")),
        ({**INCIDENT, "sources": [{"title": text}]}, ("sources", 0, "title")),
        ({**INCIDENT, "sources": [{"title": "t", "publisher": text}]},
         ("sources", 0, "publisher")),
    ]
    for data, loc in fields:
        with pytest.raises(ValidationError) as info:
            Incident.model_validate(data)
        [error] = info.value.errors()
        assert error["loc"] == loc
        if char == "\ud800" and "unable to parse raw data as a unicode string" in error["msg"]:
            continue  # pydantic's own str refuses it first; the reader does before either
        assert named in error["msg"], error["msg"]
        assert error["msg"].endswith("; remove it")


def test_hidden_characters_are_refused_in_profiles_and_forms_too() -> None:
    from notegen.records.models import Profile

    base = {"id": "p", "state": "s", "name": "n", "short_name": "m"}
    for extra in [{"formulae": {"en": {"note_verbale.opening": "hi\u202e"}}},
                  {"forms": {"ru": {"name.dat": "x\u200b"}}},
                  {"reference_pattern": "{number}\u2066/{year}"},
                  {"letterhead": ["Ministry\x1b[2J"]}]:
        with pytest.raises(ValidationError, match="U\\+"):
            Profile.model_validate({**base, **extra})


def test_ordinary_text_passes_untouched() -> None:
    text = "Kyiv\tand\nKharkiv\u00a0— «Искандер» 2025\u202fà 1 h, ça va ; Xarkov, Azərbaycan"
    assert Incident.model_validate({**INCIDENT, "account": text}).account == text
