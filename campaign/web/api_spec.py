"""The OpenAPI 3.1 document of ``/api/v1``, written as data beside the views.

The lead's properties come from ``portal.api.FIELDS`` (the CSV's columns), so
the document and the answers cannot drift apart; tests run schemathesis
against it on both backends.
"""

from __future__ import annotations

from typing import Any

from ..portal.api import DEFAULT_LIMIT, FIELDS, INTEGER_FIELDS, MAX_LIMIT
from ..portal.export import LEAD_HEADER

NULLABLE_STRING = {"type": ["string", "null"]}


def _lead() -> dict[str, Any]:
    properties: dict[str, Any] = {
        "id": {"type": "string", "pattern": r"^L-[0-9]{4}-[0-9]{4,10}$",
               "description": "The lead number, stable for ever (also the path of the lead)."},
        "routed_at": {"type": ["string", "null"], "format": "date-time",
                      "description": "When the lead was routed to this organisation (UTC)."},
    }
    for key, title in zip(FIELDS, LEAD_HEADER):
        kind = ["integer", "null"] if key in INTEGER_FIELDS else ["string", "null"]
        properties[key] = {"type": kind, "title": title,
                           "description": f"The CSV export's column \u201e{title}\u201c "
                                          "(German words, days and times of Berlin)."}
    return {"type": "object", "required": list(properties), "properties": properties,
            "additionalProperties": False}


def _error() -> dict[str, Any]:
    return {"type": "object", "required": ["error", "message"], "additionalProperties": False,
            "properties": {"error": {"type": "string"}, "message": {"type": "string"}}}


def _answer(description: str, schema: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


UNAUTHORISED = {
    "description": "No valid token. The answer names the scheme in WWW-Authenticate.",
    "headers": {"WWW-Authenticate": {"schema": {"type": "string"}, "required": True}},
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def document() -> dict[str, Any]:
    """The whole document (a fresh dict each time)."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Vom Touristen zum Neubürger: Leads einer Organisation",
                 "version": "1",
                 "description": "The leads routed to the organisation of the token, as in "
                                "the portal's CSV export. Read-only; erased, withdrawn and "
                                "anonymised leads are never returned."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/leads": {"get": {
                "operationId": "listLeads",
                "summary": "The organisation's leads, oldest first, page by page.",
                "parameters": [
                    {"name": "limit", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                                "default": DEFAULT_LIMIT}},
                    {"name": "cursor", "in": "query", "required": False,
                     "description": "next_cursor of the previous page.",
                     "schema": {"type": "string", "pattern": "^[0-9]{1,10}$"}},
                    {"name": "since", "in": "query", "required": False,
                     "description": "Only leads routed at or after this time (RFC 3339; "
                                    "a day, or a time without offset, is taken as Berlin "
                                    "time).",
                     "schema": {"type": "string", "format": "date-time"}},
                ],
                "responses": {
                    "200": _answer("One page of leads.", "LeadPage"),
                    "400": _answer("A parameter was not understood, or is unknown.",
                                   "Error"),
                    "401": UNAUTHORISED,
                },
            }},
            "/api/v1/leads/{id}": {"get": {
                "operationId": "getLead",
                "summary": "One lead by its number.",
                "parameters": [{"name": "id", "in": "path", "required": True,
                                "schema": {"type": "string"}}],
                "responses": {
                    "200": _answer("The lead.", "Lead"),
                    "400": _answer("An unknown query parameter.", "Error"),
                    "401": UNAUTHORISED,
                    "404": _answer("No such lead for this organisation.", "Error"),
                },
            }},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "A token from "
                                           "`python -m campaign create-api-token`."}},
            "schemas": {
                "Lead": _lead(),
                "LeadPage": {"type": "object", "required": ["data", "next_cursor"],
                             "additionalProperties": False, "properties": {
                                 "data": {"type": "array",
                                          "items": {"$ref": "#/components/schemas/Lead"}},
                                 "next_cursor": {"type": ["string", "null"]}}},
                "Error": _error(),
            },
        },
    }
