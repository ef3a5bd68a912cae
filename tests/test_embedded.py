"""What a note's PDF carries inside: the records the note uses, and nothing a
foreign embassy should not read (issue 14, item 2)."""

from __future__ import annotations

import io
import json
import zlib
from pathlib import Path

import pikepdf
import pytest

import notegen
from notegen import extract_record, load_case, render_pdf, verify_pdf

from .conftest import Edit, pdf_text

UNCITED = "UNCITED-INCIDENT-MARKER"
SOURCE = "INTERNAL-SOURCE-MARKER"
STATE = "UNUSED-STATE-MARKER"
PARTY = "UNUSED-PARTY-MARKER"

#: A catalogue file a ministry includes in every case: more than any one note uses.
CATALOGUE = f"""
states:
  - id: xx
    name: the Republic of {STATE}
parties:
  - id: xx-embassy
    kind: embassy
    state: xx
    name: the Embassy of {PARTY}
    short_name: the Embassy
facilities:
  - id: xx-consulate
    kind: consulate
    name: the Consulate in {STATE}
    owner: az
    place: Nowhere
    host: xx
incidents:
  - id: xx-2025-01-01
    date: 2025-01-01
    place: Nowhere
    country: xx
    attributed_to: xx
    impacts: [{{facility: xx-consulate, effect: damaged}}]
    account: {UNCITED} a stone broke a window
    sources:
      - title: {SOURCE} cable from the consulate
"""


@pytest.fixture
def larger_catalogue(edit_seed: Edit, seed_copy: Path) -> Path:
    (seed_copy / "more.yaml").write_text(CATALOGUE, encoding="utf-8")
    return edit_seed("note.yaml", "  - ../profiles/az-mfa.yaml\n",
                     "  - ../profiles/az-mfa.yaml\n  - more.yaml\n")


def _everything_inside(pdf: bytes) -> bytes:
    """Every stream of ``pdf``, decompressed, and its raw bytes."""
    parts = [pdf]
    with pikepdf.open(io.BytesIO(pdf)) as document:
        for item in document.objects:
            if isinstance(item, pikepdf.Stream):
                try:
                    parts.append(item.read_bytes())
                except pikepdf.PdfError:
                    parts.append(zlib.decompress(item.read_raw_bytes()))
    return b"\n".join(parts)


def test_the_pdf_carries_only_what_the_note_uses(larger_catalogue: Path) -> None:
    case = load_case(larger_catalogue)
    assert "xx-2025-01-01" in case.incidents  # the case holds it; the note does not cite it
    pdf = render_pdf(case)
    inside = _everything_inside(pdf)
    for marker in (UNCITED, SOURCE, STATE, PARTY):
        assert marker.encode() not in inside, marker
    records = json.loads(extract_record(pdf))
    assert {incident["id"] for incident in records["incidents"]} == {
        case.note.subject, *case.note.earlier}
    assert all("sources" not in incident for incident in records["incidents"])
    assert {state["id"] for state in records["states"]} == {"az", "ru", "ua"}
    assert [party["id"] for party in records["parties"]] == [case.note.addressee]
    # What is kept is all the note reads: the records render to the very bytes.
    assert verify_pdf(pdf).record == "matches"
    assert SOURCE not in pdf_text(pdf)


def test_a_profile_may_keep_the_sources(larger_catalogue: Path, edit_seed: Edit) -> None:
    edit_seed("../profiles/az-mfa.yaml", "profile:\n", "profile:\n  embed_sources: true\n")
    pdf = render_pdf(load_case(larger_catalogue))
    records = json.loads(extract_record(pdf))
    titles = [source["title"] for incident in records["incidents"]
              for source in incident.get("sources", [])]
    assert "Press release of the Ministry of Foreign Affairs of the Republic of Azerbaijan" \
        in titles
    assert UNCITED.encode() not in _everything_inside(pdf)  # still only what the note uses


def test_the_register_keeps_the_same_records(larger_catalogue: Path, tmp_path: Path) -> None:
    case = load_case(larger_catalogue)
    draft = case.note.model_copy(update={"reference": None})
    from dataclasses import replace

    with notegen.open_register(tmp_path / "register.db") as register:
        entry, pdf = register.issue(replace(case, note=draft), issued_by="test")
        kept = register.records(entry.reference)
    assert kept == extract_record(pdf)
    assert SOURCE.encode() not in kept
    assert UNCITED.encode() not in kept
