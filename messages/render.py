"""The one jinja2 Environment every user-facing sentence is rendered with."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

#: Locales with a folder of templates under messages/.
LOCALES = ("en",)


def messages_dir() -> Path:
    """Where the templates live (inside the installed package)."""
    return Path(str(resources.files("messages")))


@lru_cache(maxsize=1)
def environment() -> Environment:
    """Build the Environment once: autoescape for HTML, strict about undefined values."""
    env = Environment(
        loader=FileSystemLoader(messages_dir()),
        autoescape=select_autoescape(["html", "htm", "html.j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["plural"] = _plural
    return env


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


def render(locale: str, template: str, **context: Any) -> str:
    """Render `messages/<locale>/<template>` (falling back to English)."""
    env = environment()
    name = f"{locale}/{template}" if locale in LOCALES else f"en/{template}"
    return env.get_template(name).render(**context).strip()


def macro(locale: str, library: str, name: str) -> Any:
    """A macro from a template library, e.g. `macro("en", "replies.j2", "paused")`."""
    env = environment()
    module = env.get_template(f"{locale if locale in LOCALES else 'en'}/{library}").module
    if not hasattr(module, name):
        raise KeyError(f"messages/{locale}/{library} has no message '{name}'")
    return getattr(module, name)


def has_macro(locale: str, library: str, name: str) -> bool:
    """Whether a template library defines this message."""
    env = environment()
    return hasattr(env.get_template(f"{locale}/{library}").module, name)
