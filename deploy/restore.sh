#!/usr/bin/env bash
# Restore a dump made by backup.sh into an EMPTY database, then bring the schema up to date.
# Usage: deploy/restore.sh DUMP_FILE DATABASE_NAME
set -euo pipefail
dump=${1:?dump file}
database=${2:?database name}
pg_restore --no-owner --exit-on-error --dbname="$database" "$dump"
SHELTER_MATCH_DATABASE_URL="postgresql+psycopg:///$database" shelter-match db upgrade
