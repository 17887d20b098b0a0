"""Imported content: a user's licensed ACR table, read and stored on their machine (never shipped)."""
