"""The investor's documents as PDF: the settlement agreement and the receipt of a decision."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
