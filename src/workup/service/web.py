"""Clinician web pages: the scenario form, what-if pathway and guide pages."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
