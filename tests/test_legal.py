from __future__ import annotations

import pytest

from notegen import RecordError, RenderOptions, load_case, prepare
from notegen.records.models import Framing
from notegen.template_folders import TemplateFolders, builtin
from notegen.wording.legal import check, cited, derive, load_legal

from .conftest import ROOT, Edit, line_of

LEGAL = load_legal(builtin())
SECOND = ROOT / "seeds" / "mx-quito-2024" / "note.yaml"


def framings(case) -> dict[str, str]:
    return {c.id: c.framing.value for c in derive(case, LEGAL)}


def test_every_article_is_worded_in_the_four_languages() -> None:
    for article_id, article in LEGAL.articles.items():
        assert set(article.label) >= {"en", "ru", "az", "fr"}, article_id
        assert set(article.text) >= {"en", "ru", "az", "fr"}, article_id
    for instrument in LEGAL.instruments.values():
        assert set(instrument.title) >= {"en", "ru", "az", "fr"}
        assert set(instrument.of) >= {"en", "ru", "az", "fr"}


def test_a_third_state_attack_is_framed_by_who_owes_each_duty(worked_case) -> None:
    found = framings(worked_case)
    # Inviolability as a general principle; the receiving State's own duty of
    # protection (Ukraine's) is not put to Russia.
    assert found["vcdr.22.1"] == "general_principle"
    assert "vcdr.22.2" not in found
    # Relations between Azerbaijan and Ukraine are normal: no Art. 45.
    assert "vcdr.45.a" not in found
    # The honorary consulate's protection, by analogy; not Art. 31.
    assert found["vccr.59"] == "by_analogy"
    assert not any(key.startswith("vccr.31") for key in found)
    # The Ambassador's residence is part of the premises of the mission:
    # Art. 1(i) with Art. 22, not Art. 30(1).
    assert "vcdr.1.i" in found
    assert "vcdr.30.1" not in found
    # In the international armed conflict, customary humanitarian law binds
    # Russia directly; Protocol I, to which Azerbaijan is not a party, is
    # cited as binding on Russia, which is.
    assert found["ihl.7"] == found["ihl.11"] == "direct"
    assert found["api.48"] == found["api.52.1"] == "binding_on_responsible"
    assert {c.state for c in derive(worked_case, LEGAL) if c.id.startswith("api.")} == {"ru"}
    # The demands rest on State responsibility.
    assert found["arsiwa.1"] == "direct"
    assert "vcdr.29" not in found  # nobody was hurt
    assert check(worked_case, derive(worked_case, LEGAL)) == []


def test_a_receiving_state_entering_is_bound_directly() -> None:
    case = load_case(SECOND)
    found = framings(case)
    assert found["vcdr.22.1"] == found["vcdr.22.2"] == "direct"
    assert found["vcdr.29"] == "direct"  # a diplomat was assaulted
    assert "api.48" not in found  # no weapons: no humanitarian law
    assert "vcdr.45.a" not in found
    assert {"arsiwa.1", "arsiwa.30"} <= set(found)
    assert check(case, derive(case, LEGAL)) == []


#: What the worked case must cite for the Ambassador's residence.
RESIDENCE = ("    - {article: vcdr.1.i}\n"
             "    - {article: vcdr.22.1, framing: general_principle}\n")


def _cite(edit_seed: Edit, citations: str):
    note = edit_seed("note.yaml", "  demands:\n    - kind: investigation",
                     f"  legal_bases:\n{citations}  demands:\n    - kind: investigation")
    return note, load_case(note)


def test_article_31_for_an_honorary_consulate_points_to_59(edit_seed: Edit) -> None:
    note, case = _cite(edit_seed, "    - {article: vccr.31.3, facilities: "
                                  "[az-honorary-consulate-kharkiv]}\n" + RESIDENCE)
    [warning] = check(case, cited(case, LEGAL))
    assert warning.message == ("vccr.31.3 protects consulate, consulate_general, not "
                               "az-honorary-consulate-kharkiv (honorary_consulate); vccr.59 "
                               "applies to honorary_consulate")
    assert warning.location.line == line_of(note, "article: vccr.31.3")


def test_a_receiving_state_duty_against_a_third_state_needs_framing(edit_seed: Edit) -> None:
    _, case = _cite(edit_seed, "    - {article: vcdr.22.2}\n" + RESIDENCE)
    [warning] = check(case, cited(case, LEGAL))
    assert warning.message.startswith(
        "vcdr.22.2 binds the receiving State (ua), but the incident 'kyiv-2025-11-14' at "
        "'az-embassy-kyiv' is attributed to 'ru': cite it with framing by_analogy or "
        "general_principle")
    framed = load_case(edit_seed("note.yaml", "    - {article: vcdr.22.2}\n",
                                 "    - {article: vcdr.22.2, framing: by_analogy}\n"))
    assert check(framed, cited(framed, LEGAL)) == []


def test_a_residence_without_articles_1i_and_22_is_flagged(edit_seed: Edit) -> None:
    _, case = _cite(edit_seed, "    - {article: vcdr.22.1, framing: general_principle}\n")
    [warning] = check(case, cited(case, LEGAL))
    assert warning.message == ("the note concerns a head-of-mission residence "
                               "(az-residence-kyiv), which is part of the premises of the "
                               "mission (vcdr.1.i) protected by vcdr.22, but does not cite "
                               "vcdr.1.i")
    assert warning.location.field == "note.legal_bases"


@pytest.mark.logs
def test_warnings_fail_only_when_strict(edit_seed: Edit, caplog: pytest.LogCaptureFixture
                                        ) -> None:
    _, case = _cite(edit_seed, "    - {article: vcdr.22.1, framing: general_principle}\n")
    prepared = prepare(case)
    assert len(prepared.warnings) == 1
    # Logged once, located, as the command line shows it.
    [logged] = [r.getMessage() for r in caplog.records if r.name.startswith("notegen")]
    assert logged == str(prepared.warnings[0])
    assert [c.id for group in prepared.context.legal_bases for c in group.citations] == [
        "vcdr.22.1"]
    with pytest.raises(RecordError, match=r"does not cite vcdr\.1\.i"):
        prepare(case, RenderOptions(strict=True))


def test_an_unknown_article_is_a_located_error(edit_seed: Edit) -> None:
    _, case = _cite(edit_seed, "    - {article: vcdr.99}\n")
    with pytest.raises(RecordError) as info:
        cited(case, LEGAL)
    [problem] = info.value.problems
    assert problem.message.startswith("unknown article 'vcdr.99'; the legal-basis catalogue has")
    assert problem.location.field == "note.legal_bases[0].article"


def test_no_legal_bases_when_the_note_cites_none(edit_seed: Edit) -> None:
    _, case = _cite(edit_seed, "    []\n")
    note = prepare(case).context
    assert note.legal_bases == ()
    assert note.legal_intro == ""


def test_citations_are_grouped_by_instrument_and_worded(worked_case) -> None:
    note = prepare(worked_case, RenderOptions(lang="ru")).context
    titles = [group.title for group in note.legal_bases]
    assert titles[0] == "Венская конвенция о дипломатических сношениях 1961 года"
    first = note.legal_bases[0].citations[1]
    assert first.id == "vcdr.22.1"
    assert first.item == ("Пункт 1 статьи 22 (как выражение общего принципа): помещения "
                          "представительства неприкосновенны. Власти государства пребывания "
                          "не могут вступать в эти помещения иначе, как с согласия главы "
                          "представительства")
    assert first.reference == "пункт 1 статьи 22 Венской конвенции о дипломатических " \
                              "сношениях 1961 года"
    # The citation the talking points and the press release use keeps the framing.
    assert first.cite == first.reference + " (как выражение общего принципа)"
    assert first.framing == Framing.general_principle.value


#: Protocol I under its authentic title (one date for the Conventions, one for
#: the Protocol, and what it relates to; Azerbaijani, which has no authentic
#: text, mirrors it), and customary humanitarian law with the ICRC's study as
#: where its rules are found, not as the authority that determines them.
HEADINGS = {
    "en": {"api": "Protocol Additional to the Geneva Conventions of 12 August 1949, and "
                  "relating to the Protection of Victims of International Armed Conflicts "
                  "(Protocol I), of 8 June 1977",
           "ihl": "Customary international humanitarian law (the study of the International "
                  "Committee of the Red Cross, 2005)"},
    "ru": {"api": "Дополнительный протокол к Женевским конвенциям от 12 августа 1949 года, "
                  "касающийся защиты жертв международных вооружённых конфликтов "
                  "(Протокол I), от 8 июня 1977 года",
           "ihl": "Обычное международное гуманитарное право (нормы, выявленные в "
                  "исследовании Международного комитета Красного Креста, 2005 год)"},
    "az": {"api": "12 avqust 1949-cu il Cenevrə Konvensiyalarına Əlavə və beynəlxalq silahlı "
                  "münaqişələrin qurbanlarının müdafiəsinə dair 8 iyun 1977-ci il tarixli "
                  "Protokol (I Protokol)",
           "ihl": "Adət beynəlxalq humanitar hüququ (Beynəlxalq Qızıl Xaç Komitəsinin "
                  "tədqiqatı, 2005-ci il)"},
    "fr": {"api": "Protocole additionnel aux Conventions de Genève du 12 août 1949 relatif à "
                  "la protection des victimes des conflits armés internationaux "
                  "(Protocole I), du 8 juin 1977",
           "ihl": "Droit international humanitaire coutumier (étude du Comité international "
                  "de la Croix-Rouge, 2005)"},
}


def _plain(text: str) -> str:
    """``text`` with the spaces and apostrophes typography may choose made plain."""
    return " ".join(text.replace("\u2019", "'").replace("\u202f", " ")
                    .replace("\u00a0", " ").split())


@pytest.mark.parametrize("lang", sorted(HEADINGS))
def test_protocol_i_and_customary_law_are_titled_as_they_are(worked_case, lang: str) -> None:
    note = prepare(worked_case, RenderOptions(lang=lang)).context
    titles = {group.citations[0].id.split(".")[0]: _plain(group.title)
              for group in note.legal_bases}
    assert titles["api"] == HEADINGS[lang]["api"]
    assert titles["ihl"] == HEADINGS[lang]["ihl"]
    # An article of Protocol I names the Protocol, one date each, in the form that
    # follows it.
    api = next(c for group in note.legal_bases for c in group.citations if c.id == "api.48")
    of = _plain(api.reference)
    assert of.count("1949") == 1
    assert of.count("1977") == 1


def test_the_spanish_example_titles_protocol_i_and_customary_law() -> None:
    catalogue = load_legal(TemplateFolders.of([ROOT / "examples" / "sre-templates"]))
    assert catalogue.instruments["api"].title["es"] == (
        "Protocolo adicional a los Convenios de Ginebra del 12 de agosto de 1949 relativo a "
        "la protección de las víctimas de los conflictos armados internacionales "
        "(Protocolo I), del 8 de junio de 1977")
    assert catalogue.instruments["ihl"].title["es"] == (
        "Derecho internacional humanitario consuetudinario (estudio del Comité "
        "Internacional de la Cruz Roja, 2005)")
