"""Schemas of the solidarity balances: aggregates per region, never a case."""

import re
from datetime import date

import marshmallow as ma

from api.schemas.fields import UTCDateTime

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class IsoDate(ma.fields.Date):
    """A calendar date written exactly as YYYY-MM-DD."""

    default_error_messages = {"invalid": "Not a valid date; use YYYY-MM-DD."}

    def _deserialize(self, value, attr, data, **kwargs) -> date:
        if not isinstance(value, str) or not ISO_DATE.match(value):
            raise self.make_error("invalid")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise self.make_error("invalid") from None


class SolidarityQueryArgsSchema(ma.Schema):
    """The period: both dates included, in Europe/Amsterdam."""

    start = IsoDate(required=True, data_key="from",
                    metadata={"description": "First date of the period (YYYY-MM-DD).",
                              "example": "2026-01-01"})
    end = IsoDate(required=True, data_key="to",
                  metadata={"description": "Last date of the period, included (YYYY-MM-DD).",
                            "example": "2026-12-31"})


def _count(description: str) -> ma.fields.Integer:
    return ma.fields.Integer(required=True, allow_none=True, metadata={
        "description": f"{description} Null when suppressed (a short period's small count)."})


def _suppressed() -> ma.fields.Boolean:
    return ma.fields.Boolean(required=True, metadata={
        "description": "True when a figure here is null: in a period shorter than 92 days, a "
                       "count below 5, or a figure from which one could be worked out."})


class SolidarityFiguresSchema(ma.Schema):
    """Placements and bed-nights; `net_bed_nights = bed_nights_in − bed_nights_out`."""

    placements_out = _count("Placements that started in the period from this region into another.")
    placements_in = _count("Placements that started in the period from another region into this.")
    placements_own = _count("Placements that started in the period within this region.")
    bed_nights_out = _count("Bed-nights in the period of this region's people elsewhere.")
    bed_nights_in = _count("Bed-nights in the period of other regions' people here.")
    net_bed_nights = _count("bed_nights_in − bed_nights_out: positive for a net host.")
    bed_nights_own = _count("Bed-nights in the period of placements within this region "
                            "(not part of the net).")
    suppressed = _suppressed()


class _RegionKeySchema(ma.Schema):
    region_code = ma.fields.String(required=True, metadata={"example": "GM0344"})
    name = ma.fields.String(required=True, metadata={"example": "Utrecht"})


class SolidarityRegionSchema(SolidarityFiguresSchema, _RegionKeySchema):
    """One region's balance for the period."""


class SolidaritySchema(ma.Schema):
    """Every region's balance for a period, and the sums over all regions."""

    start = ma.fields.Date(data_key="from", attribute="period.start", required=True)
    end = ma.fields.Date(data_key="to", attribute="period.end", required=True)
    as_of = UTCDateTime(
        metadata={"description": "The moment up to which open placements were counted."},
    )
    regions = ma.fields.List(ma.fields.Nested(SolidarityRegionSchema), required=True)
    totals = ma.fields.Nested(SolidarityFiguresSchema, required=True, metadata={
        "description": "The same figures summed over all regions: placements_out equals "
                       "placements_in and net_bed_nights is 0."})


class SolidarityFlowSchema(ma.Schema):
    """Placements and bed-nights from one origin region into one destination region."""

    origin_region_code = ma.fields.String(required=True, metadata={"example": "GM0599"})
    destination_region_code = ma.fields.String(required=True, metadata={"example": "GM0344"})
    placements = _count("Placements that started in the period.")
    bed_nights = _count("Bed-nights in the period.")
    suppressed = _suppressed()


def _suppressible(description: str) -> ma.fields.Integer:
    return ma.fields.Integer(allow_none=True, metadata={
        "description": f"{description} Null when suppressed (a small count in a short period)."})


class UnmetRegionSchema(ma.Schema):
    """One origin region's demand in the period: aggregates only, never a case."""

    region_code = ma.fields.String()
    name = ma.fields.String()
    requests = _suppressible("Requests made in the period.")
    placed = _suppressible("Of those, placed.")
    closed_without_placement = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Integer(allow_none=True),
        metadata={"description": "Of those, cancelled, by outcome (every outcome listed)."})
    waiting_now = _suppressible("The region's requests on the waiting list now.")
    median_minutes_to_placement = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Integer(allow_none=True),
        metadata={"description": "Per risk level: median whole minutes from request to "
                                 "placement; null when none or suppressed."})
    suppressed = ma.fields.Boolean(metadata={"description": "A figure of this row is null "
                                                            "because it was small."})


class UnmetSchema(ma.Schema):
    start = ma.fields.Date(data_key="from")
    end = ma.fields.Date(data_key="to")
    regions = ma.fields.List(ma.fields.Nested(UnmetRegionSchema))
