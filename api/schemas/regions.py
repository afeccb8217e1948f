import marshmallow as ma


class RegionSchema(ma.Schema):
    """A centrumgemeente region."""

    code = ma.fields.String(metadata={"description": "CBS municipality code", "example": "GM0344"})
    name = ma.fields.String(metadata={"example": "Utrecht"})
    lat = ma.fields.Float()
    lon = ma.fields.Float()
