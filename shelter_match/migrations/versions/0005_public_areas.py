"""public areas: every location gets a public place and a disc that holds its point

Revision ID: 0005
Revises: 0004
CONTRACT 4.1: a location's point is secret, its public area is not. Existing locations get
the area derived from their point (their woonplaats, else their gemeente, else the nearest
place whose disc of 5 to 15 km holds the point), as a new location without a given place.

Create Date: 2026-12-02 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("place", "gemeente_code", "area_lat", "area_lon", "area_radius_km")


def upgrade() -> None:
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("place", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("gemeente_code", sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column("area_lat", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("area_lon", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("area_radius_km", sa.Float(), nullable=True))

    # Imported here, not at the top: only a database with locations needs the gazetteer.
    from shelter_match.services.public_areas import derive

    connection = op.get_bind()
    locations = sa.table("locations", sa.column("id", sa.String), sa.column("lat", sa.Float),
                         sa.column("lon", sa.Float),
                         *(sa.column(name) for name in COLUMNS))
    for id_, lat, lon in connection.execute(
            sa.select(locations.c.id, locations.c.lat, locations.c.lon)).all():
        area = derive(lat, lon)
        if area is None:
            # Never guessed: an admin gives the place (PATCH /locations/{id} {place}).
            raise RuntimeError(f"location {id_}: no place of at most 15 km holds its point; "
                               "move it or give it a place, then upgrade again")
        connection.execute(locations.update().where(locations.c.id == id_).values(
            place=area.place, gemeente_code=area.gemeente_code, area_lat=area.lat,
            area_lon=area.lon, area_radius_km=area.radius_km))

    with op.batch_alter_table("locations", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.alter_column(name, nullable=False)
        batch_op.create_check_constraint(op.f("ck_locations_area_radius"),
                                         "area_radius_km BETWEEN 5 AND 15")


def downgrade() -> None:
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_locations_area_radius"), type_="check")
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
