"""Protobuf messages → the gateway's JSON, and pydantic models that document that JSON.

The JSON uses the proto field names, which are the seed's column names (docs/architecture.md §6). Unlike
`MessageToDict` it keeps 64-bit integers as numbers, writes an unset optional field as `null`
(so every job has the same keys), enums as their bare name (`COMPLETED`, not
`JOB_STATUS_COMPLETED`), timestamps as RFC 3339 strings, and Struct/Value fields as plain JSON.
The response models are generated from the same descriptors, so docs and data cannot drift.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from typing import Any, Literal, cast

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message
from pydantic import BaseModel, ConfigDict, Field, create_model

_TIMESTAMP = "google.protobuf.Timestamp"
_JSON_MESSAGES = frozenset({"google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue"})
# The fields of jobs.simulation_jobs that hold JSON in a text column.
JSON_TEXT_FIELDS = ("result_graph", "result_structured", "result_chat_log")


def enum_prefix(enum: EnumDescriptor) -> str:
    """`JobStatus` → `JOB_STATUS_` (buf's enum value prefix rule)."""
    out = []
    for i, ch in enumerate(enum.name):
        if ch.isupper() and i:
            out.append("_")
        out.append(ch.upper())
    return "".join(out) + "_"


def enum_name(enum: EnumDescriptor, number: int) -> str:
    value = enum.values_by_number.get(number)
    if value is None:
        return str(number)
    prefix = enum_prefix(enum)
    return value.name[len(prefix) :] if value.name.startswith(prefix) else value.name


def enum_number(enum: EnumDescriptor, name: str) -> int:
    """Bare or prefixed name → number; raises KeyError for an unknown name."""
    upper = name.upper()
    value = enum.values_by_name.get(upper) or enum.values_by_name.get(enum_prefix(enum) + upper)
    if value is None:
        raise KeyError(name)
    return value.number


def _enum_of(field: FieldDescriptor) -> EnumDescriptor:
    assert field.enum_type is not None, f"{field.full_name} is not an enum field"
    return field.enum_type


def _message_of(field: FieldDescriptor) -> Descriptor:
    assert field.message_type is not None, f"{field.full_name} is not a message field"
    return field.message_type


def _scalar(field: FieldDescriptor, value: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_ENUM:
        return enum_name(_enum_of(field), value)
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        full_name = _message_of(field).full_name
        if full_name == _TIMESTAMP:
            return value.ToJsonString()
        if full_name in _JSON_MESSAGES:
            return json_format.MessageToDict(value)
        return message_to_json(value)
    if field.type == FieldDescriptor.TYPE_BYTES:
        return value.hex()
    return value


def message_to_json(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {}
    # The stubs type `fields` as pure-Python or upb descriptors; both have this interface.
    for field in cast("Sequence[FieldDescriptor]", message.DESCRIPTOR.fields):
        value = getattr(message, field.name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            out[field.name] = {k: _scalar(value_field, v) for k, v in value.items()}
        elif field.is_repeated:
            out[field.name] = [_scalar(field, v) for v in value]
        elif field.has_presence and not message.HasField(field.name):
            out[field.name] = None
        else:
            out[field.name] = _scalar(field, value)
    return out


def parse_json_text(value: str | None) -> Any:
    """A JSON-in-text column as an object; None when empty or not valid JSON."""
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


# --- response models ------------------------------------------------------------------------------

_SCALAR_TYPES: dict[int, Any] = {
    FieldDescriptor.TYPE_DOUBLE: float,
    FieldDescriptor.TYPE_FLOAT: float,
    FieldDescriptor.TYPE_INT64: int,
    FieldDescriptor.TYPE_UINT64: int,
    FieldDescriptor.TYPE_INT32: int,
    FieldDescriptor.TYPE_UINT32: int,
    FieldDescriptor.TYPE_SINT32: int,
    FieldDescriptor.TYPE_SINT64: int,
    FieldDescriptor.TYPE_BOOL: bool,
    FieldDescriptor.TYPE_STRING: str,
    FieldDescriptor.TYPE_BYTES: str,
}


def _field_type(field: FieldDescriptor) -> Any:
    if field.type == FieldDescriptor.TYPE_ENUM:
        enum = _enum_of(field)
        names = tuple(enum_name(enum, v.number) for v in enum.values)
        return Literal[names]
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        full_name = _message_of(field).full_name
        if full_name == _TIMESTAMP:
            return str
        if full_name == "google.protobuf.Struct":
            return dict[str, Any]
        if full_name in _JSON_MESSAGES:
            return Any
        return model_for(_message_of(field))
    return _SCALAR_TYPES[field.type]


@cache
def model_for(descriptor: Descriptor) -> type[BaseModel]:
    """A pydantic model of `message_to_json`'s output for messages of `descriptor`."""
    fields: dict[str, Any] = {}
    for field in descriptor.fields:
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value_type = _field_type(field.message_type.fields_by_name["value"])
            fields[field.name] = (dict[str, value_type], Field(default_factory=dict))  # type: ignore[valid-type]
            continue
        annotation = _field_type(field)
        if field.is_repeated:
            fields[field.name] = (list[annotation], Field(default_factory=list))  # type: ignore[valid-type]
        elif field.type == FieldDescriptor.TYPE_MESSAGE and _message_of(field).full_name == _TIMESTAMP:
            fields[field.name] = (
                annotation | None,
                Field(None, json_schema_extra={"format": "date-time"}),
            )
        elif field.has_presence:
            fields[field.name] = (annotation | None, None)
        else:
            fields[field.name] = (annotation, ...)
    doc = f"`{descriptor.full_name}` as JSON (field names are the seed's column names)."
    return create_model(descriptor.name, __config__=ConfigDict(extra="forbid"), __doc__=doc, **fields)
