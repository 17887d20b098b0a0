"""Coded errors for every layer of workup.

Hierarchy::

    WorkupError                 code, message, details; never shown as a traceback
    ├── KnowledgeError   KB1xx  a knowledge pack failed to load or validate
    ├── IntakeError      IN2xx  input (facts JSON, text, ICD-10, FHIR) cannot be read
    ├── EvaluationError  EV3xx  the engine was asked something it cannot answer
    └── ServiceError     SV4xx  the HTTP service refused a request

Every error renders to one JSON shape (:meth:`WorkupError.to_dict`), used by the CLI's
``--format json`` and by the API.
"""

from __future__ import annotations


class WorkupError(Exception):
    """Base class: a coded, user-facing error."""

    code = "WK000"

    def __init__(self, message: str, *, code: str | None = None, details: list[dict] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or []

    def to_dict(self) -> dict:
        d: dict = {"error": {"code": self.code, "message": self.message}}
        if self.details:
            d["error"]["details"] = self.details
        return d

    def __str__(self) -> str:
        lines = [f"{self.code}: {self.message}"]
        for item in self.details:
            where = item.get("where", "")
            lines.append(f"  - {where}: {item.get('message', '')}" if where else f"  - {item.get('message', '')}")
        return "\n".join(lines)


class KnowledgeError(WorkupError):
    """A knowledge pack is invalid (KB1xx). ``details`` lists every problem with its path."""

    code = "KB100"


class IntakeError(WorkupError):
    """Input could not be turned into facts (IN2xx)."""

    code = "IN200"


class EvaluationError(WorkupError):
    """The engine cannot evaluate the request (EV3xx)."""

    code = "EV300"


class ServiceError(WorkupError):
    """The service refused a request (SV4xx)."""

    code = "SV400"
