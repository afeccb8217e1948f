"""Schemas of the place look-up and of a region's gemeenten."""

import marshmallow as ma

from api.schemas.regions import RegionSchema
from shelter_match.gazetteer import KINDS
from shelter_match.services.places import MAX_QUERY, MAX_RESULTS


class PlaceQueryArgsSchema(ma.Schema):
    q = ma.fields.String(required=True, validate=ma.validate.Length(1, MAX_QUERY), metadata={
        "description": "A woonplaats, gemeente or postcode, as typed: case, accents and "
                       "punctuation are forgiven; qualifiers such as \"Valkenburg ZH\" or "
                       "\"Hengelo (Gld)\" are read.", "example": "Hengelo"})
    limit = ma.fields.Integer(load_default=10,
                              validate=ma.validate.Range(1, MAX_RESULTS))


class PlaceSchema(ma.Schema):
    """A place: its centre and extent, its gemeente and region. Best match first."""

    name = ma.fields.String(metadata={"example": "Hengelo"})
    qualified_name = ma.fields.String(metadata={
        "description": "Unique; give it as a `place` to mean exactly this one.",
        "example": "Hengelo (Gld)"})
    kind = ma.fields.String(metadata={
        "enum": list(KINDS),
        "description": "gemeente; woonplaats; place (a district or hamlet without a postcode "
                       "of its own); postcode (a PC4 area); abroad (a town within about 50 km "
                       "across the border: a danger point only, never an origin or a "
                       "location)."})
    gemeente_code = ma.fields.String(allow_none=True, metadata={"example": "GM1876"})
    gemeente_name = ma.fields.String(allow_none=True, metadata={"example": "Bronckhorst"})
    region_code = ma.fields.String(allow_none=True, metadata={
        "description": "The region of its gemeente; null abroad.", "example": "GM0200"})
    province = ma.fields.String(allow_none=True)
    country = ma.fields.String(metadata={"example": "NL"})
    lat = ma.fields.Float()
    lon = ma.fields.Float()
    match = ma.fields.String(metadata={
        "enum": ["exact", "choice", "prefix", "similar"],
        "description": "Why it is listed: exact (the text means this place); choice (one of "
                       "several places the text names: ask which, and send its "
                       "qualified_name); prefix (its name starts with the text); similar "
                       "(spelt alike)."})
    radius_km = ma.fields.Float(metadata={
        "description": "The extent: a disc of this radius around lat/lon covers the place. "
                       "A danger given as this place keeps the minimum distance from all of "
                       "it."})


class GemeenteSchema(ma.Schema):
    code = ma.fields.String(metadata={"example": "GM0606"})
    name = ma.fields.String(metadata={"example": "Schiedam"})


class RegionDetailSchema(RegionSchema):
    """A region with the gemeenten it serves (every gemeente lies in exactly one)."""

    gemeenten = ma.fields.List(ma.fields.Nested(GemeenteSchema))
