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
