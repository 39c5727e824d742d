"""Every language has everything English has, and works end to end.

Templates: every file in messages/en exists in every locale of LOCALES, parses, defines
the same macros with the same parameters and reads the same context. Data: the rules' texts
and the code's own word tables carry every locale. Then whole conversations in Spanish,
through DialogueService, down to the summary and the clinician's report.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jinja2 import meta, nodes

from bot.model import Outbound
from bot.reports import TELEGRAM_LIMIT, caregiver_summary, report_words
from bot.service import DialogueService
from flows.catalog import FlowCatalog
from flows.loader import bundled_flow_paths, load_flow_file
from flows.series import bundled_series_paths, load_series_file
from messages.render import LOCALES, environment, messages_dir
from scoring.rules import bundled_rules
from store.sqlite import Store
from tests.conftest import Clock, Person
from tests.integration.clinic import BOT, clinic_service, new_interview, register
from tests.unit.test_report_templates import worst_case

MESSAGES = messages_dir()
ENGLISH_FILES = sorted(p.name for p in (MESSAGES / "en").iterdir() if p.is_file())
TEMPLATES = [name for name in ENGLISH_FILES if name.endswith(".j2")]
OTHER_LOCALES = [locale for locale in LOCALES if locale != "en"]


# -- the template files ------------------------------------------------------------------------


def _source(locale: str, name: str) -> str:
    return (MESSAGES / locale / name).read_text(encoding="utf-8")


def _macros(source: str) -> dict[str, tuple[str, ...]]:
    tree = environment().parse(source)
    return {m.name: tuple(arg.name for arg in m.args) for m in tree.find_all(nodes.Macro)}


def _context(source: str) -> set[str]:
    return set(meta.find_undeclared_variables(environment().parse(source)))


def test_messages__english_has_templates() -> None:
    assert "replies.j2" in TEMPLATES and "summary.txt.j2" in TEMPLATES
    assert "en" in LOCALES and OTHER_LOCALES


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", ENGLISH_FILES)
def test_messages__every_english_file__exists_in_every_locale(locale: str, name: str) -> None:
    assert (MESSAGES / locale / name).is_file(), (
        f"messages/{locale}/{name} is missing: translate messages/en/{name} (docs/languages.md)"
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_messages__no_file_only_in_a_translation(locale: str) -> None:
    extra = sorted(p.name for p in (MESSAGES / locale).iterdir()
                   if p.is_file() and p.name not in ENGLISH_FILES)
    assert extra == [], f"messages/{locale} has files English lacks: {extra}"


@pytest.mark.parametrize("locale", OTHER_LOCALES)
@pytest.mark.parametrize("name", TEMPLATES)
def test_messages__same_macros_same_parameters_same_context(locale: str, name: str) -> None:
    english, translated = _source("en", name), _source(locale, name)
    assert _macros(translated) == _macros(english)
    assert _context(translated) == _context(english)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", TEMPLATES)
def test_messages__every_template__parses_and_loads(locale: str, name: str) -> None:
    template = environment().get_template(f"{locale}/{name}")
    if _macros(_source(locale, name)):
        template.module  # noqa: B018 - building the module runs the top level once


@pytest.mark.parametrize("locale", OTHER_LOCALES)
@pytest.mark.parametrize("name", [n for n in ENGLISH_FILES if n.endswith(".yaml")])
def test_messages__data_files__same_keys(locale: str, name: str) -> None:
    english = yaml.safe_load(_source("en", name))
    translated = yaml.safe_load(_source(locale, name))
    assert set(translated) == set(english)


# -- texts held in data and code ---------------------------------------------------------------


def _texts(value: Any, path: str = "") -> Iterator[tuple[str, dict[str, str]]]:
    """Every locale-keyed text ({"en": ...}) inside a dumped pydantic model."""
    if isinstance(value, dict):
        if "en" in value and all(isinstance(v, str) for v in value.values()):
            yield path, value
            return
        for key, inner in value.items():
            yield from _texts(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _texts(inner, f"{path}.{index}")


def test_rules__every_text__in_every_locale() -> None:
    rules = bundled_rules("developmental_history")
    found = [*_texts(rules.scoring.model_dump()), *_texts(rules.recommendations.model_dump())]
    assert len(found) > 100  # periods, background, factors, regions, functions, recommendations
    missing = [path for path, text in found if not all(text.get(loc) for loc in LOCALES)]
    assert missing == []


def test_report_words__every_locale__same_words() -> None:
    english = report_words("en")
    for locale in LOCALES:
        words = report_words(locale)
        assert {group: set(table) for group, table in words.items()} == {
            group: set(table) for group, table in english.items()}
        assert all(text.strip() for table in words.values() for text in table.values())


@pytest.mark.parametrize("path", bundled_flow_paths(), ids=lambda p: p.name)
def test_bundled_flows__every_locale__no_warnings(path: Path) -> None:
    result = load_flow_file(path)
    assert result.warnings == []
    assert set(LOCALES) <= set(result.flow.locales)


@pytest.mark.parametrize("path", bundled_series_paths(), ids=lambda p: p.name)
def test_bundled_series__every_locale__no_warnings(path: Path) -> None:
    result = load_series_file(path)
    assert result.warnings == [] and result.series is not None
    assert set(LOCALES) <= set(result.series.locales)


def test_summary__spanish_worst_case__fits_one_telegram_message() -> None:
    report = worst_case()
    text = caregiver_summary(report, "es")
    assert len(text) <= TELEGRAM_LIMIT
    assert not text.endswith("…\n")  # fits whole, not cut by the guard
    assert text.startswith("Gracias por hablarnos de " + "W" * 40)
    for rec in report.recommendations:  # every step at least named
        assert rec.title["es"] in text


# -- whole conversations in Spanish ---------------------------------------------------------------

ENGLISH_TELLS = ("Tap ", "Type ", " question ", "Your answer", "Here are your answers",
                 "(skipped)", "Thank you", "Next steps")


def _english_texts(flow_key: str, catalog: FlowCatalog) -> set[str]:
    """The flow's longer English texts: none of them may reach a Spanish conversation."""
    flow = catalog.get(flow_key)
    texts = {flow.title["en"], flow.consent["en"]}
    for section in flow.sections:
        texts.add(section.title["en"])
        for item in section.items:
            texts.add(item.prompt["en"].split("{option}")[-1])
            texts.update(option.label["en"] for option in item.options)
    return {t for t in texts if len(t) >= 14}


def _no_english(messages: list[Outbound], english: set[str]) -> None:
    for message in messages:
        for tell in (*ENGLISH_TELLS, *english):
            assert tell not in message.text, (tell, message.text[:300])
        for row in message.choices:
            for choice in row:
                assert choice.label not in english, choice.label


async def _send_in_spanish(person: Person) -> None:
    """From the review: "send my answers", then "yes, send now", by their Spanish labels."""
    await person.tap("Enviar mis respuestas")
    await person.tap("Sí, enviar ahora")


async def _answer_all_in_spanish(person: Person, english: set[str]) -> int:
    """Answer each question the way a quick caregiver would, until the review list."""
    asked = 0
    while "Estas son sus respuestas" not in person.text:
        _no_english(person.last, english)
        screen = person.text
        assert "pregunta" in screen, screen[-600:]
        if "Escriba la edad" in screen:
            await person.type("8 años")
        elif "Escriba un número." in screen:
            await person.type("2")
        elif "Escriba su respuesta" in screen:
            await person.type("Sam")
        else:  # one tap, or numbers typed: the first option
            await person.type("1")
        asked += 1
        assert asked < 200, "the interview never reached the review"
    _no_english(person.last, english)
    return asked


@pytest.fixture
def history_catalog() -> FlowCatalog:
    return FlowCatalog.bundled("developmental_history")


async def test_sample_interview__whole_in_spanish(person: Person, catalog: FlowCatalog) -> None:
    english = _english_texts("sample@1", catalog)
    await person.command("start")
    await person.tap("Español")
    assert "Le damos la bienvenida" in person.text and "pausa" in person.text
    await person.tap("Estoy de acuerdo")
    assert "[Parte 1 de 5 · Sobre su hijo o hija · quedan 3 preguntas aquí" in person.text
    await person.type("Sam")
    await person.type("2 años 6 meses")
    await person.tap("Familia de acogida")
    assert "✔ Familia de acogida" in person.last[0].text
    await person.tap("3")
    await person.type("dos")
    await person.tap("El sueño")
    await person.tap("Listo")
    assert "Sobre esta preocupación: El sueño" in person.text
    await person.type("1, 2")
    await person.type("3")
    await person.type("Se despierta a las 3 casi todas las noches")
    await person.tap("No")
    assert "Estas son sus respuestas" in person.text
    assert "Familia de acogida" in person.text and "Se despierta a las 3" in person.text
    _no_english(person.last, english)
    await _send_in_spanish(person)
    assert "Sus respuestas se enviaron y están guardadas" in person.text
    _no_english(person.last, english)


async def test_history_interview__spanish__summary_in_spanish(
    store: Store, history_catalog: FlowCatalog, clock: Clock
) -> None:
    service = DialogueService(store, history_catalog, clock=clock)
    english = _english_texts("developmental_history@1", history_catalog)
    person = Person(service, "maria")
    await person.command("start")
    await person.tap("Español")
    assert "La historia de su hijo o hija hasta hoy" in person.text
    await person.tap("Estoy de acuerdo")
    assert await _answer_all_in_spanish(person, english) > 40
    assert "8 años" in person.text
    await _send_in_spanish(person)
    summary = person.text
    assert "Sus respuestas se enviaron y están guardadas" in summary
    assert "Gracias por hablarnos de Sam." in summary
    assert "No es un diagnóstico" in summary and "Próximos pasos" in summary
    assert "Cosas que probar, en este orden" in summary
    _no_english(person.last, english)
    assert all(len(m.text) <= TELEGRAM_LIMIT for m in person.last)


async def test_history_interview__switch_to_spanish_midway__answers_kept(
    store: Store, history_catalog: FlowCatalog, clock: Clock
) -> None:
    service = DialogueService(store, history_catalog, clock=clock)
    person = Person(service, "jo")
    await person.command("start")
    await person.tap("I agree")
    await person.type("Sam")
    await person.type("8")
    await person.tap("A foster parent")
    assert "Who does your child live with now?" in person.text
    await person.command("language", "es")
    assert "De acuerdo, seguimos en español." in person.text
    assert "¿Con quién vive ahora su hijo o hija?" in person.text
    await person.command("back")
    assert "¿Quién responde?" in person.text
    assert "Su respuesta hasta ahora: Familia de acogida" in person.text
    await person.tap("Familia de acogida")
    english = _english_texts("developmental_history@1", history_catalog)
    await _answer_all_in_spanish(person, english)
    assert "Familia de acogida" in person.text and "8 años" in person.text
    await _send_in_spanish(person)
    assert "Gracias por hablarnos de Sam." in person.text
    _no_english(person.last, english)


async def test_history_report__clinician_in_spanish__html_in_spanish(
    store: Store, history_catalog: FlowCatalog, clock: Clock
) -> None:
    service = clinic_service(store, history_catalog, clock)
    doc = await register(service, "doc")
    await doc.command("language", "es")
    code, interview_id = await new_interview(doc, "Sam")
    assert f"https://t.me/{BOT}?start=" in doc.text and "Envíe este enlace" in doc.text
    family = Person(service, "fam")
    await family.command("start", code)
    await family.tap("Español")
    await family.tap("Estoy de acuerdo")
    english = _english_texts("developmental_history@1", history_catalog)
    await _answer_all_in_spanish(family, english)
    await _send_in_spanish(family)
    assert "Gracias por hablarnos de Sam." in family.text

    [report] = await doc.command("report", interview_id)
    assert "Informe sobre Sam" in report.text and "no es un diagnóstico" in report.text
    assert report.attachment is not None
    html = report.attachment.data.decode("utf-8")
    assert '<html lang="es">' in html
    for heading in ("Historia del desarrollo: Sam", "Mapa funcional del cerebro",
                    "Recomendaciones, en orden", "Anexo: todas las respuestas"):
        assert heading.casefold() in html.casefold(), heading
    assert "¿Qué edad tiene?" in html and "8 años" in html
    assert html.count("data:image/png;base64,") == 2
    for tell in ("Recommendations", "How often", "(skipped)", "Developmental risk"):
        assert tell not in html, tell


async def test_forget__confirmed_in_spanish(person: Person) -> None:
    await person.command("start")
    await person.tap("Español")
    await person.tap("Estoy de acuerdo")
    await person.type("Sam")
    await person.command("forget")
    assert "escriba: sí, borrar" in person.text
    await person.type("Sí, borrar")
    assert "Hecho. Sus respuestas y entrevistas están borradas." in person.text
