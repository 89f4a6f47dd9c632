"""The special compensation fund's books: a pure double-entry core (no database)."""
