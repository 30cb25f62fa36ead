"""OpenAPI: the error format of API.md, documented once and named on every operation."""

from __future__ import annotations

ERROR_COMPONENT = "Error"

# Status → what it means, for every operation (API.md, "Errors"). An operation that documents a
# status itself (a more precise description) keeps its own.
ERROR_RESPONSES = {
    "400": "Données invalides (code `invalid`, détail par champ dans `fields`).",
    "401": "Non authentifié.",
    "403": "Action non autorisée (par exemple : réservée au personnel de la commune).",
    "404": "Introuvable, ou appartient à une autre commune ou une autre famille.",
    "409": "Impossible dans l’état actuel (délai passé, complet, solde insuffisant…).",
    "429": "Trop de requêtes : réessayez plus tard.",
}

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "description": "Code stable, en snake_case."},
                "message": {"type": "string", "description": "Message en français."},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
        }
    },
}


def add_error_responses(result, generator, request, public):
    """drf-spectacular post-processing hook: the `Error` component and the error statuses."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    reference = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_RESPONSES.items():
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": reference}},
                    },
                )
    return result
