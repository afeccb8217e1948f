"""Schemas of a user's quotas."""

import marshmallow as ma

from shelter_match.services.policy import MAX_QUOTA

Range = ma.validate.Range


def _quota(description: str) -> ma.fields.Integer:
    return ma.fields.Integer(strict=True, allow_none=True, validate=Range(0, MAX_QUOTA),
                             metadata={"description": description})


class UserQuotasUpdateSchema(ma.Schema):
    """The quotas to set for one user; a member left out stays, null means the policy's."""

    class Meta:
        unknown = ma.RAISE

    requests_per_hour = _quota("Placement requests she may make in an hour (0 to "
                               f"{MAX_QUOTA}; null: the policy's).")
    proposals_per_hour = _quota("Proposals she may be shown in an hour, each request of a "
                                f"joint proposal counting (0 to {MAX_QUOTA}; null: the "
                                "policy's).")

    @ma.validates_schema
    def require_one(self, data, **_kwargs):
        if not data:
            raise ma.ValidationError("Give requests_per_hour, proposals_per_hour or both.",
                                     "_schema")


class QuotaUseSchema(ma.Schema):
    requests_per_hour = ma.fields.Integer(required=True)
    proposals_per_hour = ma.fields.Integer(required=True)


class UserQuotasSchema(ma.Schema):
    """A user's hourly quotas in force and what she used of them in the last hour."""

    user = ma.fields.String(required=True, attribute="user_name")
    requests_per_hour = ma.fields.Integer(required=True)
    proposals_per_hour = ma.fields.Integer(required=True)
    own = ma.fields.Method("own_quotas", metadata={
        "description": "The quotas set for her alone (the others are the policy's)."})
    used = ma.fields.Method("use", metadata={"description": "Counted in the last hour."})

    def own_quotas(self, quotas):
        return sorted(quotas.own)

    def use(self, quotas):
        return {"requests_per_hour": quotas.requests_used,
                "proposals_per_hour": quotas.proposals_used}
