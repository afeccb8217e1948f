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


class QuotaExceeded(DomainError):
    """Raise when a user has used up an hourly quota; nothing was done.

    `retry_after` is the number of seconds until enough of her counted calls have left
    the hour. The app writes the refusal to the audit log after rolling back the request.
    """

    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, *, user_id: str, user_name: str, quota: str, limit: int,
                 used: int, asked: int, retry_after: int, object_id: str | None = None) -> None:
        super().__init__(detail, quota=quota, limit=limit, retry_after=retry_after)
        self.user_id = user_id
        self.user_name = user_name
        self.quota = quota
        self.limit = limit
        self.used = used
        self.asked = asked
        self.retry_after = retry_after
        self.object_id = object_id
