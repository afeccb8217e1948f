"""Errors the domain raises; the API and the CLI turn each into one clear answer."""


class ShelterMatchError(Exception):
    """Base of every error the domain raises on purpose."""


class ConfigError(ShelterMatchError):
    """Raise when the configuration cannot be used (bad URL, unknown engine)."""


class DatabaseUnavailable(ShelterMatchError):
    """Raise when the database does not answer."""


class DomainError(ShelterMatchError):
    """An error about a request; `status` is the HTTP status it maps to."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, **extra: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class ValidationFailed(DomainError):
    """Raise when input is well-formed but not acceptable; names the fields."""

    status = 422
    title = "Unprocessable content"

    def __init__(self, errors: dict[str, list[str]], detail: str | None = None) -> None:
        fields = ", ".join(sorted(errors))
        super().__init__(detail or f"Invalid value for: {fields}.")
        self.errors = errors


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class Conflict(DomainError):
    """Raise when the state of an object does not allow the change (unit taken, hold expired)."""

    status = 409
    title = "Conflict"


class PreconditionFailed(DomainError):
    """Raise when the caller's version of an object is stale (If-Match)."""

    status = 412
    title = "Precondition failed"
