"""CDS Hooks 2.0 request models and the services workup offers (discovery).

Our own pydantic models, lenient where real clients are (extra fields kept, a
``draftOrders`` Bundle without ``type`` accepted) and strict where the spec is.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "procedures": "Procedure?patient={{context.patientId}}",
}

SERVICES: dict[str, dict[str, Any]] = {
    "workup-order-select": {
        "hook": "order-select",
        "title": "Spine imaging appropriateness (order select)",
        "description": (
            "Rates a selected spine imaging order against the ACR Appropriateness Criteria for the "
            "patient's scenario, shows the basis, and suggests better-rated studies."
        ),
    },
    "workup-order-sign": {
        "hook": "order-sign",
        "title": "Spine imaging appropriateness (order sign)",
        "description": (
            "Rates each draft spine imaging order against the ACR Appropriateness Criteria before "
            "signing and attaches the rating to the order (Argonaut PAMA extensions)."
        ),
    },
}


def discovery() -> dict[str, Any]:
    """The discovery document (``GET /cds-services``)."""
    return {
        "services": [
            {"hook": s["hook"], "id": sid, "title": s["title"], "description": s["description"], "prefetch": dict(PREFETCH)}
            for sid, s in SERVICES.items()
        ]
    }


class OrderContext(BaseModel):
    """Context of ``order-select`` / ``order-sign``."""

    model_config = ConfigDict(extra="allow")

    userId: str = Field(max_length=512)
    patientId: str = Field(max_length=512)
    encounterId: str | None = Field(default=None, max_length=512)
    selections: list[str] | None = Field(default=None, max_length=200)
    draftOrders: dict[str, Any]


class HookRequest(BaseModel):
    """A CDS Hooks service call."""

    model_config = ConfigDict(extra="allow")

    hook: str = Field(max_length=128)
    hookInstance: str = Field(max_length=128)
    fhirServer: str | None = Field(default=None, max_length=2048)
    fhirAuthorization: dict[str, Any] | None = None  # transient: never logged, never stored
    context: OrderContext
    prefetch: dict[str, Any] | None = None


class Coding(BaseModel):
    model_config = ConfigDict(extra="allow")

    system: str | None = Field(default=None, max_length=512)
    code: str | None = Field(default=None, max_length=256)
    display: str | None = Field(default=None, max_length=1024)


class OverrideReason(BaseModel):
    model_config = ConfigDict(extra="allow")

    reason: Coding | None = None
    userComment: str | None = Field(default=None, max_length=10_000)  # free text: not stored


class AcceptedSuggestion(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(max_length=128)


class FeedbackItem(BaseModel):
    """One card outcome (CDS Hooks 2.0 feedback)."""

    model_config = ConfigDict(extra="allow")

    card: str = Field(max_length=128)
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[AcceptedSuggestion] | None = Field(default=None, max_length=50)
    overrideReason: OverrideReason | None = None
    outcomeTimestamp: str = Field(max_length=64)


class FeedbackRequest(BaseModel):
    """``POST /cds-services/{id}/feedback``."""

    model_config = ConfigDict(extra="allow")

    feedback: list[FeedbackItem] = Field(min_length=1, max_length=100)
