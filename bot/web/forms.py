"""Reading a posted form: size-limited, URL-encoded only, one value per field."""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.requests import Request

#: A page's form is a few hundred bytes; a typed answer at most ~16 KB once encoded.
MAX_FORM_BYTES = 64 * 1024


class FormError(Exception):
    """The body was too large, not a form, or not text."""


async def read_form(request: Request, limit: int = MAX_FORM_BYTES) -> dict[str, str]:
    """The fields of an `application/x-www-form-urlencoded` body (the first of each)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise FormError("not a form")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise FormError("too large")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise FormError("too large")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False,
                          max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        raise FormError("not a form") from None
    return {name: values[0] for name, values in fields.items()}
