"""The OpenAPI 3 document of /api/v1 (tests validate every response against it)."""

from __future__ import annotations

from typing import Any

from lms.stats.dimensions import NAMES as DIMENSIONS
from lms.stats.exports import FORMATS, MIMETYPES

COUNTS = {"type": "integer", "minimum": 0}
SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "status"],
        "properties": {"error": {"type": "string"}, "status": {"type": "integer"}},
    },
    "Target": {
        "type": "object",
        "required": ["target", "reached"],
        "properties": {
            "target": COUNTS,
            "reached": COUNTS,
            "pace_per_day": {"type": "number", "minimum": 0},
            "projected_date": {"type": ["string", "null"], "format": "date"},
        },
    },
    "Progress": {
        "type": "object",
        "required": ["trained", "specialists", "as_of"],
        "properties": {
            "trained": {"$ref": "#/components/schemas/Target"},
            "specialists": {"$ref": "#/components/schemas/Target"},
            "as_of": {"type": "string", "format": "date-time"},
        },
    },
    "Breakdown": {
        "type": "object",
        "required": ["dimension", "period", "rows"],
        "properties": {
            "dimension": {"type": "string", "enum": list(DIMENSIONS)},
            "period": {"type": ["string", "null"]},
            "region": {"type": ["string", "null"]},
            "tier": {"type": ["string", "null"], "enum": ["public", "specialist", None]},
            "rows": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["value", "completions", "new_trained", "new_specialists"],
                    "properties": {
                        "value": {"type": "string"},
                        "completions": COUNTS,
                        "new_trained": COUNTS,
                        "new_specialists": COUNTS,
                    },
                },
            },
        },
    },
    "Cell": {
        "type": "object",
        "required": ["value", "suppressed"],
        "properties": {
            "value": {"type": ["integer", "null"], "minimum": 0},
            "suppressed": {"type": "boolean"},
            "mark": {"type": ["string", "null"], "enum": ["<10", "x", None]},
        },
    },
    "ExportJson": {
        "type": "object",
        "required": ["metadata", "schema", "tables"],
        "properties": {
            "schema": {
                "type": "object",
                "description": "The Table Schema (v2) of the CSV export",
                "required": ["fields", "missingValues", "primaryKey"],
            },
            "metadata": {
                "type": "object",
                "required": ["kk", "ru", "en"],
                "additionalProperties": {
                    "type": "object",
                    "required": [
                        "dataset",
                        "period",
                        "extracted_at",
                        "fields",
                        "suppression",
                        "residual_risk",
                    ],
                },
            },
            "tables": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["measure", "columns", "rows"],
                    "properties": {
                        "measure": {"type": "string"},
                        "dimension": {"type": "string"},
                        "columns": {"type": "array", "items": {"type": "string"}},
                        "rows": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["value", "label", "cells"],
                                "properties": {
                                    "value": {"type": "string"},
                                    "label": {"type": "object", "required": ["kk", "ru", "en"]},
                                    "cells": {
                                        "type": "object",
                                        "additionalProperties": {
                                            "$ref": "#/components/schemas/Cell"
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
    "StatementResult": {
        "type": "object",
        "required": ["statements", "more"],
        "properties": {
            "statements": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "actor", "verb", "object", "timestamp", "version"],
                },
            },
            "more": {"type": "string"},
        },
    },
}


def _json(schema: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "Bad request",
        401: "Missing, wrong or revoked token",
        403: "The token's account is not an analyst or admin",
        404: "Not found",
        405: "Method not allowed",
        429: "Rate limit exceeded",
    }
    return {str(c): {"description": text[c], "content": _json("Error")} for c in codes}


PERIOD = {
    "name": "period",
    "in": "query",
    "schema": {"type": "string", "pattern": r"^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$"},
    "description": "YYYY, YYYY-Qn or YYYY-MM",
}


def document(base_url: str) -> dict[str, Any]:
    """The OpenAPI document."""
    secured: list[dict[str, list[str]]] = [{"bearer": []}]
    dimension = {
        "name": "dimension",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": list(DIMENSIONS)},
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Oqu statistics API",
            "version": "1.0.0",
            "description": (
                "Progress toward 5,000,000 trained and 500,000 specialists. Every error, "
                "an unknown path (404) or method (405) under /api/ included, is JSON: "
                "the Error schema."
            ),
        },
        "servers": [{"url": base_url.rstrip("/") + "/api/v1"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
            "responses": {str(c): v for c, v in _errors(404, 405).items()},
        },
        "security": secured,
        "paths": {
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "OpenAPI document",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
            "/stats/progress": {
                "get": {
                    "summary": "National totals toward the targets (never suppressed)",
                    "responses": {
                        "200": {"description": "Progress", "content": _json("Progress")},
                        **_errors(401, 403, 429),
                    },
                }
            },
            "/stats/breakdowns/{dimension}": {
                "get": {
                    "summary": "Exact counts per value of a dimension, read from the counters",
                    "parameters": [
                        dimension,
                        PERIOD,
                        {
                            "name": "region",
                            "in": "query",
                            "schema": {"type": "string"},
                            "description": "A region code (reference/kz_regions_2024.csv); "
                            "an unknown code is a 400",
                        },
                        {
                            "name": "tier",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["public", "specialist"]},
                        },
                    ],
                    "responses": {
                        "200": {"description": "Breakdown", "content": _json("Breakdown")},
                        **_errors(400, 401, 403, 404, 429),
                    },
                }
            },
            "/stats/exports/{dimension}.{format}": {
                "get": {
                    "summary": "A suppressed export for publication, for a fixed period",
                    "parameters": [
                        dimension,
                        {**PERIOD, "required": True},
                        {
                            "name": "format",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "enum": list(FORMATS)},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "The export",
                            "content": {
                                **_json("ExportJson"),
                                "text/csv": {"schema": {"type": "string"}},
                                MIMETYPES["xlsx"]: {
                                    "schema": {"type": "string", "format": "binary"}
                                },
                                MIMETYPES["zip"]: {
                                    "schema": {"type": "string", "format": "binary"},
                                },
                            },
                        },
                        **_errors(400, 401, 403, 404, 429),
                    },
                }
            },
            "/stats/xapi": {
                "get": {
                    "summary": "xAPI 1.0.3 statements, one per completion, pseudonymous, streamed",
                    "description": (
                        "A completion annulled after it may have been read is voided "
                        "(verb http://adlnet.gov/expapi/verbs/voided, object a "
                        "StatementRef). Follow `more`: it carries both cursors."
                    ),
                    "parameters": [
                        {
                            "name": "since",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 0},
                            "description": "Completions after this cursor",
                        },
                        {
                            "name": "voided_since",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 0},
                            "description": "Annulments after this cursor",
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 100000},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "StatementResult",
                            "content": _json("StatementResult"),
                        },
                        **_errors(400, 401, 403, 429),
                    },
                }
            },
        },
    }
