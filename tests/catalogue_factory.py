"""Synthetic incident catalogues for tests and benchmarks.

A catalogue here is what a ministry keeps: States, parties, premises
(diplomatic and State-company) of several sending States in several host
States, two armed conflicts, and incidents over several years, each
attributed to a State and placed in the conflict it belongs to. Incidents
are given as :class:`Row` (one line of a table a test can write by hand)
or drawn at random, reproducibly, by :func:`synthetic_rows`.

:func:`write_catalogue` writes a catalogue folder of record files (one file
of incidents per year, so that no file passes a file's limits), and
:func:`write_case` a note protesting the last incident that struck the
sender's premises, either listing its earlier incidents (``earlier="list"``,
the State-company premises included) or giving the catalogue with
``include`` (``catalogue=False``, what cases did before catalogues).

The benchmarks import this module too (``benchmarks/bench_validate.py``).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Sending States, each with the ministry that writes its notes.
SENDERS = ("az", "tr", "kz")
#: States incidents are attributed to, each with an embassy in each sender.
ATTRIBUTED = ("ru", "by", "ir", "sy")
#: States where the premises lie.
HOSTS = ("ua", "ge", "sy", "lb")
#: The kinds of premises each sender has in each host.
KINDS = ("embassy", "consulate", "state_company_facility")
#: The armed conflicts of the catalogue: (id, kind, parties, since).
#: (ru-ua from 26 February 2014, as the ICC Prosecutor dates it in Crimea: every
#: incident attributed to either party lies in it.)
CONFLICTS = (("ru-ua", "international", ("ru", "ua"), dt.date(2014, 2, 26)),
             ("sy-niac", "non_international", ("sy",), dt.date(2011, 3, 15)))
#: The years incidents are drawn from.
YEARS = tuple(range(2018, 2026))
#: Effects an incident may have on premises (each an attack).
EFFECTS = ("destroyed", "seriously_damaged", "damaged", "struck", "near_miss")
#: The note's date in :func:`write_case`: after every incident.
NOTE_DATE = dt.date(2026, 1, 15)

_NAMES = {"az": "the Republic of Azerbaijan", "tr": "the Republic of Türkiye",
          "kz": "the Republic of Kazakhstan", "ru": "the Russian Federation",
          "by": "the Republic of Belarus", "ir": "the Islamic Republic of Iran",
          "sy": "the Syrian Arab Republic", "ua": "Ukraine", "ge": "Georgia",
          "lb": "the Lebanese Republic"}


@dataclass(frozen=True)
class Row:
    """One incident: where, when, by whom, on which premises, with what effect."""

    id: str
    date: dt.date
    country: str
    attributed_to: str
    facility: str
    effect: str = "damaged"
    means: str = "missile"


def facility_id(owner: str, kind: str, host: str) -> str:
    """The id of ``owner``'s premises of ``kind`` in ``host``."""
    short = {"embassy": "embassy", "consulate": "consulate",
             "state_company_facility": "company"}[kind]
    return f"{owner}-{short}-{host}"


def conflict_for(attributed_to: str, day: dt.date) -> str | None:
    """The conflict an incident attributed to ``attributed_to`` on ``day``
    belongs to (every conflict here lasts to this day)."""
    for conflict_id, _, parties, since in CONFLICTS:
        if attributed_to in parties and day >= since:
            return conflict_id
    return None


def synthetic_rows(count: int, seed: int = 21) -> list[Row]:
    """``count`` incidents drawn reproducibly: every sender, attributed State,
    host, kind of premises, effect and year, ids unique."""
    draw = random.Random(seed)
    rows = []
    for number in range(count):
        year = YEARS[number % len(YEARS)]
        day = dt.date(year, 1, 1) + dt.timedelta(days=draw.randrange(365))
        owner, host = draw.choice(SENDERS), draw.choice(HOSTS)
        attributed = draw.choice([state for state in ATTRIBUTED if state != host])
        kind = draw.choice(KINDS)
        rows.append(Row(f"inc-{number:05d}", day, host, attributed,
                        facility_id(owner, kind, host), draw.choice(EFFECTS),
                        draw.choice(("missile", "drone", "artillery"))))
    return rows


def states() -> list[dict[str, Any]]:
    return [{"id": state, "name": name} for state, name in _NAMES.items()]


def parties() -> list[dict[str, Any]]:
    """A ministry for each sender; an embassy of each attributed State in each sender."""
    found: list[dict[str, Any]] = []
    for sender in SENDERS:
        found.append({"id": f"{sender}-mfa", "kind": "ministry", "state": sender,
                      "name": f"the Ministry of Foreign Affairs of {_NAMES[sender]}",
                      "short_name": "the Ministry", "seat": f"the capital of {sender}"})
        for other in ATTRIBUTED:
            found.append({"id": f"{other}-embassy-{sender}", "kind": "embassy",
                          "state": other,
                          "name": f"the Embassy of {_NAMES[other]} in {_NAMES[sender]}",
                          "short_name": "the Embassy"})
    return found


def facilities() -> list[dict[str, Any]]:
    """Each sender's embassy, consulate and State-company premises in each host."""
    return [{"id": facility_id(owner, kind, host), "kind": kind, "owner": owner, "host": host,
             "name": f"the {kind.replace('_', ' ')} of {_NAMES[owner]} in {_NAMES[host]}",
             "place": f"the capital of {host}"}
            for owner in SENDERS for host in HOSTS for kind in KINDS]


def conflicts() -> list[dict[str, Any]]:
    return [{"id": conflict_id, "kind": kind, "parties": list(parties), "since": since}
            for conflict_id, kind, parties, since in CONFLICTS]


def incident(row: Row) -> dict[str, Any]:
    """The record of ``row``."""
    record: dict[str, Any] = {
        "id": row.id, "date": row.date, "place": f"the capital of {row.country}",
        "country": row.country, "attributed_to": row.attributed_to,
        "impacts": [{"facility": row.facility, "effect": row.effect}],
        "means": [{"kind": row.means}],
        "account": f"a {row.means} attack hit {row.facility}"}
    conflict = conflict_for(row.attributed_to, row.date)
    if conflict is not None:
        record["conflict"] = conflict
    return record


def owner_of(row: Row) -> str:
    return row.facility.split("-", 1)[0]


def _dump(path: Path, data: dict[str, Any]) -> Path:
    """Write ``data`` as a JSON record file (JSON: the same for every reader)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, default=dt.date.isoformat) + "\n",
                    encoding="utf-8")
    return path


def write_catalogue(folder: Path, rows: Iterable[Row]) -> list[Path]:
    """Write a catalogue folder: its States, parties, premises and conflicts,
    and one file of incidents per year. Returns the files written."""
    by_year: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_year.setdefault(row.date.year, []).append(incident(row))
    written = [
        _dump(folder / "states.json", {"states": states(), "conflicts": conflicts()}),
        _dump(folder / "parties.json", {"parties": parties()}),
        _dump(folder / "facilities.json", {"facilities": facilities()}),
    ]
    written += [_dump(folder / f"incidents-{year}.json", {"incidents": records})
                for year, records in sorted(by_year.items())]
    return written


def protested(rows: Sequence[Row], sender: str = "az", addressee: str = "ru"
              ) -> tuple[Row, list[Row]]:
    """The incident a note of ``sender`` to ``addressee`` protests (the last
    one attributed to the addressee that struck the sender's premises) and
    those before it."""
    struck = sorted((row for row in rows if owner_of(row) == sender
                     and row.attributed_to == addressee), key=lambda row: (row.date, row.id))
    subject = struck[-1]
    return subject, [row for row in struck if row.date < subject.date]


def note(rows: Sequence[Row], sender: str = "az", addressee: str = "ru",
         earlier: Any = None) -> dict[str, Any]:
    """A note of ``sender`` to ``addressee`` protesting the last incident
    that struck the sender's premises; ``earlier`` as given, or the list of
    every incident before it that struck them; ``"all"``: every incident of
    the catalogue dated before it (the longest chronology a note can have)."""
    subject, before = protested(rows, sender, addressee)
    if earlier == "all":
        earlier = [row.id for row in rows if row.date < subject.date]
    return {"date": NOTE_DATE, "sender": f"{sender}-mfa",
            "addressee": f"{addressee}-embassy-{sender}", "subject": subject.id,
            "earlier": [row.id for row in before] if earlier is None else earlier,
            "protest": "protest against the attack",
            "demands": [{"kind": "investigation"}]}


def write_case(folder: Path, rows: Sequence[Row], *, catalogue: bool = True,
               earlier: Any = None, sender: str = "az", addressee: str = "ru",
               **fields: Any) -> Path:
    """A case in ``folder``: a catalogue folder ``catalogue/`` and a note file
    that names it (``catalogue: catalogue``) or, with ``catalogue`` false,
    includes its files; the note's further ``fields`` as given. Returns the
    note file."""
    files = write_catalogue(folder / "catalogue", rows)
    head: dict[str, Any] = ({"catalogue": "catalogue"} if catalogue else
                            {"include": [str(path.relative_to(folder)) for path in files]})
    return _dump(folder / "note.json",
                 {**head, "note": {**note(rows, sender, addressee, earlier), **fields}})
