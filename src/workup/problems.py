"""Validation problems collected across YAML files, reported together.

The knowledge pack (:mod:`workup.kb.load`) and the intake rule files
(:mod:`workup.intake.lexicon`) are checked the same way: every problem is kept, with the
file and the path inside it, and the caller raises one coded error listing all of them.
"""

from __future__ import annotations

from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class Problems:
    """Problems found so far, each ``{"file", "where", "message"}``.

    Args:
        prefix: put before each file name in reports (e.g. ``"intake/rules/"``).
    """

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.items: list[dict] = []

    def add(self, file: str, where: str, message: str) -> None:
        """Record a problem at ``where`` (a dotted path inside ``file``; empty for the whole file)."""
        path = f"{self.prefix}{file}"
        self.items.append({"file": path, "where": f"{path}:{where}" if where else path, "message": message})

    def yaml(self, file: str, text: str | None) -> dict | None:
        """Parse ``text`` as a YAML mapping, or record why not (``None`` text: the file is missing)."""
        if text is None:
            self.add(file, "", "missing file")
            return None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            self.add(file, "", f"not valid YAML: {e}")
            return None
        if not isinstance(data, dict):
            self.add(file, "", "expected a mapping at the top level")
            return None
        return data

    def model(self, file: str, data: dict | None, model: type[M]) -> M | None:
        """Validate ``data`` with ``model``, recording each error with its path; ``None`` data gives ``None``."""
        if data is None:
            return None
        try:
            return model.model_validate(data)
        except ValidationError as e:
            for err in e.errors():
                self.add(file, ".".join(str(p) for p in err["loc"]), err["msg"])
            return None
