"""The situation decides the law (issue 15): armed conflicts, diplomatic
relations and treaty participation choose which articles a note cites, and
how; misapplications are located warnings.

The table cases use invented States with ISO's user-assigned codes (XA, XB,
XC: no real State has them), so no real treaty status distracts: Arcadia
(XA) sends, its premises lie in Borealia (XB), and Corvia (XC) is a third
State. Their treaty participation is given in a template folder of the
test's own, which also shows that one overrides the built-in data: all three
are parties to the Vienna Conventions; Borealia and Corvia to Protocol I,
Arcadia not.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from notegen import RecordError, RenderOptions, load_case, prepare
from notegen.options import Document
from notegen.records.case import Case
from notegen.template_folders import TemplateFolders, builtin
from notegen.wording.legal import LegalCatalogue, check, cited, derive, load_legal

from .conftest import Edit, line_of

PARTICIPATION = """\
instruments:
  vcdr:
    source: invented for the tests
    as_of: 2026-11-25
    parties: [XA, XB, XC]
  vccr:
    source: invented for the tests
    as_of: 2026-11-25
    parties: [XA, XB, XC]
  api:
    source: invented for the tests
    as_of: 2026-11-25
    parties: [XB, XC]
    not_parties: [XA]
"""

D, A, G, B = "direct", "by_analogy", "general_principle", "binding_on_responsible"

#: Humanitarian law for an attack in an international armed conflict by a
#: State party to Protocol I, cited by Arcadia, which is not: the customary
#: rules in their own right, the Protocol as binding on the attacker.
IHL = {"ihl.7": D, "ihl.11": D, "api.48": B, "api.51.4": B, "api.52.1": B}

#: Facility kind → articles and framing, the attack attributed to Borealia,
#: the receiving State, which owes every duty directly, in peacetime.
RECEIVING = {
    "embassy": {"vcdr.22.1": D, "vcdr.22.2": D},
    "head_of_mission_residence": {"vcdr.1.i": D, "vcdr.22.1": D, "vcdr.22.2": D},
    "consulate": {"vccr.31.1": D, "vccr.31.3": D},
    "honorary_consulate": {"vccr.59": D},
    "state_company_facility": {},
}
#: The same, the attack attributed to Corvia, a third State: inviolability as
#: a general principle, the honorary post's protection by analogy, and never
#: the receiving State's own duty of protection (22(2), 31(3)).
THIRD = {
    "embassy": {"vcdr.22.1": G},
    "head_of_mission_residence": {"vcdr.1.i": D, "vcdr.22.1": G},
    "consulate": {"vccr.31.1": G},
    "honorary_consulate": {"vccr.59": A},
    "state_company_facility": {},
}
#: Where relations are broken off, VCDR 45(a) binds the receiving State, for
#: the premises of the mission; never a third State.
ART_45 = {"embassy", "head_of_mission_residence"}


def _expected(situation: str, kind: str, attributed: str) -> dict[str, str]:
    expected = dict((RECEIVING if attributed == "xb" else THIRD)[kind])
    if situation == "conflict":
        expected |= IHL
    if situation == "broken" and attributed == "xb" and kind in ART_45:
        expected["vcdr.45.a"] = D
    return expected


CASES = [(situation, kind, attributed)
         for situation in ("peace", "conflict", "broken")
         for kind in RECEIVING
         for attributed in ("xb", "xc")]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ministry")
    (folder / "legal").mkdir()
    (folder / "legal" / "participation.yaml").write_text(PARTICIPATION, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def legal(folder: Path) -> LegalCatalogue:
    return load_legal(TemplateFolders.of([folder]))


def _state(key: str, name: str) -> dict[str, Any]:
    return {"id": key, "name": f"the Republic of {name}", "short_name": name,
            "side": f"the {name}n side"}


def write_case(folder: Path, situation: str, kind: str, attributed: str, *,
               legal_bases: list[dict[str, Any]] | None = None,
               incident: dict[str, Any] | None = None) -> Path:
    """One incident: a missile strike on an Arcadian facility of ``kind`` in
    Borealia, attributed to ``attributed``, in ``situation``; the note goes
    to the attributed State's embassy."""
    strike: dict[str, Any] = {
        "id": "strike", "date": "2025-06-01", "place": "Borea", "country": "xb",
        "attributed_to": attributed, "impacts": [{"facility": "site", "effect": "damaged"}],
        "means": [{"kind": "missile"}], "account": "a missile struck the premises"}
    if situation == "conflict":
        strike["conflict"] = "xb-xc"
    strike |= incident or {}
    note: dict[str, Any] = {
        "date": "2025-06-02", "sender": "xa-mfa", "addressee": f"{attributed}-embassy",
        "subject": "strike", "chronology_required": False,
        "protest": "protest against the strike", "demands": [{"kind": "other",
                                                              "text": "explain it"}]}
    if legal_bases is not None:
        note["legal_bases"] = legal_bases
    case: dict[str, Any] = {
        "states": [_state("xa", "Arcadia"), _state("xb", "Borealia"),
                   _state("xc", "Corvia")],
        "parties": [
            {"id": "xa-mfa", "kind": "ministry", "state": "xa", "seat": "Arca",
             "name": "the Ministry of Foreign Affairs of the Republic of Arcadia",
             "short_name": "the Ministry"},
            *({"id": f"{key}-embassy", "kind": "embassy", "state": key,
               "name": f"the Embassy of {key}", "short_name": "the Embassy"}
              for key in ("xb", "xc"))],
        "facilities": [{"id": "site", "kind": kind, "name": f"the Arcadian {kind}",
                        "owner": "xa", "place": "Borea", "host": "xb"}],
        "incidents": [strike],
        "note": note,
    }
    if situation == "conflict":
        case["conflicts"] = [{"id": "xb-xc", "kind": "international",
                              "parties": ["xb", "xc"], "since": "2024-01-01"}]
    if situation == "broken":
        case["relations"] = [{"sending": "xa", "receiving": "xb", "status": "broken_off",
                              "since": "2025-01-01"}]
    path = folder / f"{situation}-{kind}-{attributed}.json"
    path.write_text(json.dumps(case, indent=2), encoding="utf-8")
    return path


@pytest.mark.parametrize(("situation", "kind", "attributed"), CASES)
def test_the_situation_facility_and_attributed_state_choose_articles_and_framing(
        tmp_path: Path, legal: LegalCatalogue, situation: str, kind: str,
        attributed: str) -> None:
    case = load_case(write_case(tmp_path, situation, kind, attributed))
    derived = derive(case, legal)
    assert {c.id: c.framing.value for c in derived} == _expected(situation, kind, attributed)
    # Protocol I is cited as binding the State it binds: the attacker.
    assert {c.state for c in derived if c.framing.value == B} <= {attributed}
    assert check(case, derived) == []


def test_without_participation_data_a_treaty_gives_way_to_customary_law(
        tmp_path: Path) -> None:
    # The built-in data knows nothing of XA, XB, XC: Protocol I is not cited
    # against Corvia, the customary rules are; the receiving State's treaty
    # duties become general principles.
    case = load_case(write_case(tmp_path, "conflict", "embassy", "xc"))
    found = {c.id: c.framing.value for c in derive(case, load_legal(builtin()))}
    assert found == {"vcdr.22.1": G, "ihl.7": D, "ihl.11": D}
    case = load_case(write_case(tmp_path, "peace", "embassy", "xb"))
    found = {c.id: c.framing.value for c in derive(case, load_legal(builtin()))}
    assert found == {"vcdr.22.1": G, "vcdr.22.2": G}


def test_searches_seized_archives_and_detained_agents_bring_their_articles(
        tmp_path: Path, legal: LegalCatalogue) -> None:
    facts = {"impacts": [{"facility": "site", "effect": "searched"},
                         {"facility": "site", "effect": "archives_seized"},
                         {"facility": "site", "effect": "agent_detained"}],
             "means": []}
    case = load_case(write_case(tmp_path, "peace", "embassy", "xb", incident=facts))
    found = {c.id: c.framing.value for c in derive(case, legal)}
    assert found == {"vcdr.22.1": D, "vcdr.22.3": D, "vcdr.24": D, "vcdr.29": D}
    case = load_case(write_case(tmp_path, "peace", "honorary_consulate", "xb", incident=facts))
    assert {c.id for c in derive(case, legal)} == {"vccr.61", "vcdr.29"}
    case = load_case(write_case(tmp_path, "peace", "consulate", "xb", incident=facts))
    assert {c.id for c in derive(case, legal)} == {"vccr.31.1", "vccr.33", "vcdr.29"}


def test_a_non_international_conflict_brings_customary_rules_only(
        tmp_path: Path, legal: LegalCatalogue) -> None:
    path = write_case(tmp_path, "conflict", "embassy", "xb")
    data = json.loads(path.read_text(encoding="utf-8"))
    data["conflicts"] = [{"id": "xb-xc", "kind": "non_international", "parties": ["xb"],
                          "since": "2024-01-01"}]
    path.write_text(json.dumps(data), encoding="utf-8")
    found = {c.id for c in derive(load_case(path), legal)}
    assert found == {"vcdr.22.1", "vcdr.22.2", "ihl.7", "ihl.11"}


# Each check, located at the citation it is about.

def _one(case: Case, legal: LegalCatalogue) -> str:
    [warning] = check(case, cited(case, legal))
    assert warning.location.field == "note.legal_bases[0]"
    assert warning.location.file is not None
    return warning.message


def test_humanitarian_law_in_peacetime_is_flagged(tmp_path: Path,
                                                  legal: LegalCatalogue) -> None:
    # A mob throwing stones at an embassy in peacetime: no armed conflict.
    stones = {"means": [{"kind": "other", "name": "stones"}]}
    case = load_case(write_case(tmp_path, "peace", "embassy", "xb", incident=stones,
                                legal_bases=[{"article": "ihl.7"}]))
    assert _one(case, legal) == (
        "ihl.7 is humanitarian law, which applies only in an armed conflict, but the "
        "incident 'strike' of 2025-06-01 attributed to 'xb' is placed in no armed conflict "
        "between it and another party; without one, cite the rules of peacetime")


def test_an_unplaced_incident_in_a_conflict_is_pointed_to_it(tmp_path: Path,
                                                             legal: LegalCatalogue) -> None:
    path = write_case(tmp_path, "conflict", "embassy", "xc",
                      legal_bases=[{"article": "ihl.7"}, {"article": "vcdr.22.1",
                                                          "framing": G}])
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["incidents"][0]["conflict"]
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    case = load_case(path)
    first, second = check(case, cited(case, legal))
    assert first.message.endswith("is placed in no armed conflict between it and another "
                                  "party; if it was part of the armed conflict 'xb-xc', place "
                                  "it there (conflict: xb-xc)")
    assert second.message.startswith("the incident 'strike' attributed to 'xc' is placed in "
                                     "no armed conflict, but 'xc' was a party to the armed "
                                     "conflict 'xb-xc' on 2025-06-01")
    assert second.location.field == "incidents[0].date"


def test_a_treaty_cited_against_a_state_not_party_names_the_customary_rule(
        tmp_path: Path, folder: Path) -> None:
    # Corvia is not a party to Protocol I here; Arcadia is.
    other = folder.parent / "corvia-not-party"
    (other / "legal").mkdir(parents=True, exist_ok=True)
    (other / "legal" / "participation.yaml").write_text(
        PARTICIPATION.replace("parties: [XB, XC]\n    not_parties: [XA]",
                              "parties: [XA, XB]\n    not_parties: [XC]"), encoding="utf-8")
    legal = load_legal(TemplateFolders.of([other]))
    case = load_case(write_case(tmp_path, "conflict", "embassy", "xc",
                                legal_bases=[{"article": "api.48"}]))
    assert _one(case, legal) == (
        "api.48 is cited as treaty law binding 'xc', which is not a party to api on "
        "2025-06-01 (legal/participation.yaml: invented for the tests, as of 2026-11-25); "
        "cite ihl.7 (customary) instead")
    # Derived, Protocol I is not cited at all: the customary rules are.
    derived = derive(load_case(write_case(tmp_path, "conflict", "embassy", "xc")), legal)
    assert {c.id for c in derived} == {"vcdr.22.1", "ihl.7", "ihl.11"}


#: What the worked case must cite for the Ambassador's residence, so that a
#: test's own citation is the only one warned about.
RESIDENCE = ("    - {article: vcdr.1.i}\n"
             "    - {article: vcdr.22.1, framing: general_principle}\n")


def test_a_treaty_cited_by_a_state_not_party_is_flagged(edit_seed: Edit) -> None:
    # The worked case: Azerbaijan is (to our knowledge, unconfirmed) not a
    # party to Protocol I; citing it directly invokes it as its own treaty.
    note = edit_seed("note.yaml", "  demands:\n    - kind: investigation",
                     "  legal_bases:\n    - {article: api.48}\n" + RESIDENCE
                     + "  demands:\n    - kind: investigation")
    case = load_case(note)
    [warning] = check(case, cited(case, load_legal(builtin())))
    assert warning.message.startswith(
        "api.48 is cited as treaty law by the sender 'az', which is not a party to api "
        "(unconfirmed: a party to the four Geneva Conventions (1993) but")
    assert warning.message.endswith("; cite ihl.7 first, and api.48 with framing "
                                    "binding_on_responsible")
    assert warning.location.line == line_of(note, "{article: api.48}")


def test_article_59_for_a_career_consulate_points_to_31(tmp_path: Path,
                                                        legal: LegalCatalogue) -> None:
    case = load_case(write_case(tmp_path, "peace", "consulate", "xb",
                                legal_bases=[{"article": "vccr.59", "facilities": ["site"]}]))
    assert _one(case, legal) == ("vccr.59 protects honorary_consulate, not site (consulate); "
                                 "vccr.31.3 applies to consulate")


def test_article_31_unnamed_beside_an_honorary_post_is_flagged(
        tmp_path: Path, legal: LegalCatalogue) -> None:
    path = write_case(tmp_path, "peace", "consulate", "xb",
                      legal_bases=[{"article": "vccr.31.3"}])
    data = json.loads(path.read_text(encoding="utf-8"))
    data["facilities"].append({"id": "hon", "kind": "honorary_consulate", "owner": "xa",
                               "name": "the honorary consulate", "place": "Borea",
                               "host": "xb"})
    data["incidents"][0]["impacts"].append({"facility": "hon", "effect": "damaged"})
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    assert _one(load_case(path), legal) == (
        "vccr.31.3 is cited for all the note's facilities, among them hon "
        "(honorary_consulate), which it does not protect: name the facilities it is cited "
        "for; vccr.59 applies to honorary_consulate")


def test_article_45_without_broken_relations_is_flagged(edit_seed: Edit) -> None:
    note = edit_seed("note.yaml", "  demands:\n    - kind: investigation",
                     "  legal_bases:\n    - {article: vcdr.45.a, framing: by_analogy, "
                     "facilities: [az-embassy-kyiv]}\n" + RESIDENCE
                     + "  demands:\n    - kind: investigation")
    case = load_case(note)
    [warning] = check(case, cited(case, load_legal(builtin())))
    assert warning.message == (
        "vcdr.45.a applies only where diplomatic relations between 'az' and 'ua' are broken "
        "off or the mission is recalled, but on 2025-11-14 (the incident 'kyiv-2025-11-14') "
        "no relations record of the case says they were; they were normal")
    assert warning.location.line == line_of(note, "{article: vcdr.45.a")


def test_article_30_for_a_head_of_mission_residence_points_to_1i_and_22(
        edit_seed: Edit) -> None:
    note = edit_seed("note.yaml", "  demands:\n    - kind: investigation",
                     "  legal_bases:\n    - {article: vcdr.1.i}\n"
                     "    - {article: vcdr.22.1, framing: general_principle}\n"
                     "    - {article: vcdr.30.1, framing: general_principle, "
                     "facilities: [az-residence-kyiv]}\n  demands:\n    - kind: investigation")
    case = load_case(note)
    [warning] = check(case, cited(case, load_legal(builtin())))
    assert warning.message == (
        "vcdr.30.1 protects diplomatic_agent_residence, not az-residence-kyiv "
        "(head_of_mission_residence); vcdr.22.1 applies to head_of_mission_residence (the "
        "residence of the head of the mission is part of the premises of the mission, "
        "vcdr.1.i)")
    assert warning.location.line == line_of(note, "{article: vcdr.30.1")


# The situation's records are checked when the case is loaded.

def test_an_incident_outside_its_conflict_or_by_a_non_party_is_an_error(
        tmp_path: Path) -> None:
    path = write_case(tmp_path, "conflict", "embassy", "xc", incident={"date": "2023-05-01"})
    data = json.loads(path.read_text(encoding="utf-8"))
    data["conflicts"][0]["parties"] = ["xb", "xa"]
    data["note"]["date"] = "2023-05-02"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    with pytest.raises(RecordError) as info:
        load_case(path)
    messages = [(p.message, p.location.field) for p in info.value.problems]
    assert messages == [
        ("the incident is placed in the armed conflict 'xb-xc' (2024-01-01 to now), but is "
         "dated 2023-05-01, when it was not in force", "incidents[0].conflict"),
        ("the incident is placed in the armed conflict 'xb-xc', but the State it is "
         "attributed to, 'xc', is not one of its parties (xb, xa)", "incidents[0].conflict")]


def test_relations_name_known_states(tmp_path: Path) -> None:
    path = write_case(tmp_path, "broken", "embassy", "xb")
    data = json.loads(path.read_text(encoding="utf-8"))
    data["relations"][0]["receiving"] = "xz"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    with pytest.raises(RecordError) as info:
        load_case(path)
    [problem] = info.value.problems
    assert problem.message == "unknown State 'xz': none of the states has this id"
    assert problem.location.field == "relations[0].receiving"


# The worked case: one list, one framing, in every document and language.

#: How each language says each framing after an article it cites (the
#: talking points and the press release), written from the rule.
FRAMED = {
    "en": {"analogy": "Article 59 of the Vienna Convention on Consular Relations of 1963 "
                      "(applied by analogy)",
           "principle": "Article 22(1) of the Vienna Convention on Diplomatic Relations of "
                        "1961 (as an expression of a general principle)",
           "binding": "Article 48 of the Protocol Additional to the Geneva Conventions of 12 "
                      "August 1949, and relating to the Protection of Victims of International "
                      "Armed Conflicts (Protocol I), of 8 June 1977 (binding on the Russian "
                      "Federation as a party)"},
    "ru": {"analogy": "статья 59 Венской конвенции о консульских сношениях 1963 года "
                      "(по аналогии)",
           "principle": "пункт 1 статьи 22 Венской конвенции о дипломатических сношениях "
                        "1961 года (как выражение общего принципа)",
           "binding": "статья 48 Дополнительного протокола к Женевским конвенциям от 12 "
                      "августа 1949 года, касающегося защиты жертв международных вооружённых "
                      "конфликтов (Протокол I), от 8 июня 1977 года (положение договора, "
                      "участником которого является Российская Федерация)"},
    "az": {"analogy": "1963-cü il Konsulluq əlaqələri haqqında Vyana Konvensiyasının 59-cu "
                      "maddəsi (analogiya üzrə)",
           "principle": "1961-ci il Diplomatik əlaqələr haqqında Vyana Konvensiyasının 22-ci "
                        "maddəsinin 1-ci bəndi (ümumi prinsipin ifadəsi kimi)",
           "binding": "12 avqust 1949-cu il Cenevrə Konvensiyalarına Əlavə və beynəlxalq "
                      "silahlı münaqişələrin qurbanlarının müdafiəsinə dair 8 iyun 1977-ci il "
                      "tarixli Protokolun (I Protokol) 48-ci maddəsi (iştirakçısı Rusiya "
                      "Federasiyası olan müqavilənin müddəası kimi)"},
    "fr": {"analogy": "l'article 59 de la Convention de Vienne sur les relations consulaires "
                      "de 1963 (par analogie)",
           "principle": "le paragraphe 1 de l'article 22 de la Convention de Vienne sur les "
                        "relations diplomatiques de 1961 (en tant qu'expression d'un principe "
                        "général)",
           "binding": "l'article 48 du Protocole additionnel aux Conventions de Genève du 12 "
                      "août 1949 relatif à la protection des victimes des conflits armés "
                      "internationaux (Protocole I), du 8 juin 1977 (disposition d'un traité "
                      "auquel la Fédération de Russie est partie)"},
}


def _plain(text: str) -> str:
    """``text`` with no-break spaces and typographic apostrophes made plain,
    whichever the language's typography chooses."""
    return " ".join(text.replace("\u2019", "'").split()).replace("\u202f", " ")


def _cited_ids(case: Case) -> list[str]:
    note = prepare(case).context
    return [c.id for group in note.legal_bases for c in group.citations]


def test_the_worked_case_cites_nothing_it_should_not(worked_case: Case) -> None:
    ids = _cited_ids(worked_case)
    assert ids == ["vcdr.1.i", "vcdr.22.1", "vccr.59", "ihl.7", "ihl.11", "api.48",
                   "api.51.4", "api.52.1", "arsiwa.1"]
    # No Art. 45 (relations with Ukraine are normal), no duty of the receiving
    # State put to Russia directly, no Art. 30(1) for the head of mission.
    assert not {"vcdr.45.a", "vcdr.22.2", "vcdr.30.1", "vccr.31.1", "vccr.31.3"} & set(ids)


@pytest.mark.parametrize("lang", ["en", "ru", "az", "fr"])
def test_every_document_carries_the_framing(worked_case: Case, lang: str) -> None:
    note = prepare(worked_case, RenderOptions(lang=lang)).context
    framing = {c.id: c.framing for group in note.legal_bases for c in group.citations}
    assert framing["vcdr.22.1"] == G
    assert framing["vccr.59"] == A
    assert framing["api.48"] == B
    # Customary humanitarian law comes before Protocol I.
    titles = [group.title for group in note.legal_bases]
    assert titles.index(next(t for t in titles if "1949" in t)) > 2
    points = prepare(worked_case, RenderOptions(lang=lang,
                                                document=Document.talking_points)).companion
    release = prepare(worked_case, RenderOptions(lang=lang,
                                                 document=Document.press_release)).companion
    assert points is not None
    assert release is not None
    listed = [_plain(line) for line in points.legal]  # type: ignore[union-attr]
    public = _plain(" ".join(release.paragraphs))  # type: ignore[union-attr]
    for expected in FRAMED[lang].values():
        assert any(_plain(expected).lower() in line.lower() for line in listed), expected
        assert _plain(expected) in public or _plain(expected)[0].upper() + \
            _plain(expected)[1:] in public, expected
    # Every receiving-State duty and Protocol I article is framed in both.
    bare = {c.reference for group in note.legal_bases for c in group.citations
            if c.framing != D}
    for reference in bare:
        assert not any(_plain(line).lower() == _plain(reference).lower() for line in listed)
    assert "45" not in " ".join(c.label for g in note.legal_bases for c in g.citations)


@pytest.mark.parametrize("lang", ["ru", "az", "fr", "en"])
def test_the_courtesy_translation_cites_the_same_list(worked_case: Case, lang: str) -> None:
    original = prepare(worked_case).context
    translated = prepare(worked_case, RenderOptions(lang=lang, translation_of="en")).context
    assert [(c.id, c.framing) for g in translated.legal_bases for c in g.citations] == \
        [(c.id, c.framing) for g in original.legal_bases for c in g.citations]


def test_azerbaijani_list_items_stand_alone(worked_case: Case) -> None:
    note = prepare(worked_case, RenderOptions(lang="az")).context
    items = {c.id: c.item for group in note.legal_bases for c in group.citations}
    assert items["vcdr.22.1"].startswith("22-ci maddənin 1-ci bəndi (ümumi prinsipin "
                                         "ifadəsi kimi): ")
    assert items["vccr.59"].startswith("59-cu maddə (analogiya üzrə): ")
    assert items["ihl.7"].startswith("7-ci qayda: ")
    assert items["arsiwa.1"].startswith("1-ci maddə: ")
    assert items["vcdr.1.i"].startswith("1-ci maddənin «i» bəndi: ")
