"""Held-out short-answer questions over the shared PDFs, and their builder."""
