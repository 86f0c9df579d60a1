"""How JSON-schema-constrained output is asked of an OpenAI-compatible chat server.

Servers disagree on the request shape:
- `json_schema` - OpenAI's structured outputs, vLLM's `vllm serve`:
  `{"type": "json_schema", "json_schema": {"name", "strict", "schema"}}`;
- `json_object` with a `schema` - llama.cpp's servers (`llama_cpp.server`), which refuse the
  `json_schema` form (HTTP 500 with a validation error naming `response_format`);
- none - a server that takes neither: the reply is checked (and retried) by the caller anyway.

A client starts with the first and, when a server refuses the form (an HTTP error naming
`response_format`), moves to the next for good: :class:`FormatNegotiation`. The runner's and the
reporter's clients share it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

STYLES = ("json_schema", "json_object", "none")


def response_format(style: str, schema: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    """The `response_format` member for ``style`` (None: send none)."""
    if style == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": name, "strict": False, "schema": schema}}
    if style == "json_object":
        return {"type": "json_object", "schema": schema}
    return None


def refuses_response_format(status: int, body: str) -> bool:
    """True when an HTTP answer says the server does not take this form of `response_format`.

    400 and 422 are the usual refusals; llama.cpp's Python server answers its request validation
    error with HTTP 500 and the offending field in the body."""
    return status in (400, 422, 500) and "response_format" in body


class FormatNegotiation:
    """The form this client currently asks in; :meth:`refused` moves on to the next one."""

    def __init__(self, first: str = "json_schema") -> None:
        if first not in STYLES:
            raise ValueError(f"unknown response_format style {first!r}; choose one of {', '.join(STYLES)}")
        self._index = STYLES.index(first)
        self._encoded: dict[tuple[int, str, str], tuple[Mapping[str, Any], str]] = {}

    @property
    def style(self) -> str:
        return STYLES[self._index]

    def member(self, schema: Mapping[str, Any], name: str) -> dict[str, Any] | None:
        return response_format(self.style, schema, name)

    def encoded(self, schema: Mapping[str, Any], name: str) -> str:
        """``,"response_format":{...}`` as JSON text ("" for none), cached per schema object: the
        same schema is sent call after call."""
        key = (id(schema), name, self.style)
        hit = self._encoded.get(key)
        if hit is None or hit[0] is not schema:  # an id can be reused once its object is gone
            member = self.member(schema, name)
            hit = (schema, "" if member is None else ',"response_format":' + json.dumps(member))
            self._encoded[key] = hit
        return hit[1]

    def refused(self) -> bool:
        """Move to the next form; False when none is left (the server refused asking with none)."""
        if self._index + 1 >= len(STYLES):
            return False
        self._index += 1
        return True
