"""Errors that point back to their source (file, line and reason), and the refusals of the services."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem in the input: where it is and what is wrong."""

    file: str
    line: int | None
    reason: str
    key: str | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        what = f"{self.key}: {self.reason}" if self.key else self.reason
        return f"{where}: {what}"


class CaseError(Exception):
    """The case cannot be computed as given.  Carries every problem found, each with its source."""

    def __init__(self, problems: list[Problem] | Problem, hint: str | None = None):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        self.hint = hint
        super().__init__(self.render())

    def render(self, limit: int = 50) -> str:
        lines = [str(p) for p in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(f"... and {len(self.problems) - limit} more problems")
        if self.hint:
            lines.append(self.hint)
        return "\n".join(lines)


# Errors of the services (case administration and the store), each with the HTTP status the API answers with.

class AdminError(ValueError):
    """The operation was refused; nothing was changed."""

    status_code = 409

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


class NotFound(AdminError):
    status_code = 404


class Forbidden(AdminError):
    status_code = 403


class BadInput(AdminError):
    """An input file or value is malformed.  ``problems`` name file, line and reason."""

    status_code = 422

    def __init__(self, message: str, problems: list[str] | None = None, *, hint: str | None = None):
        self.problems = list(problems or [])
        full = message if not self.problems else message + "\n" + "\n".join(f"  {p}" for p in self.problems[:50])
        if len(self.problems) > 50:
            full += f"\n  ... and {len(self.problems) - 50} more"
        super().__init__(full, hint=hint)
