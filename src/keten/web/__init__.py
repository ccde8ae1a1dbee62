"""The web service: JSON API under /api/v1 (and, later, the HTML pages)."""
