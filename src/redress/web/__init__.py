"""The web side: an HTTP API (FastAPI), the investor portal, the administrator console and public case pages."""
