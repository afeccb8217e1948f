#!/usr/bin/env bash
# Restore a backup made by backup.sh into an EMPTY database, bring the schema up to date,
# grant the service's role, and verify the audit trail.
#
# Usage: deploy/restore.sh BACKUP_FILE DATABASE
#   BACKUP_FILE  a .dump.age file made by backup.sh
#   DATABASE     the empty database: a name or a libpq URI, for pg_restore; run as the
#                tables' owner (deploy/roles.sql), who will own what is restored
#   SHELTER_MATCH_BACKUP_IDENTITY  the age identity file: the backup key's PRIVATE half,
#                brought from where it is kept offline for the restore, and removed after
#   SHELTER_MATCH_DATABASE_URL     the same database for shelter-match (default
#                postgresql+psycopg:///DATABASE)
#   SHELTER_MATCH_SERVICE_ROLE     grant to this role afterwards (default: no grant)
set -euo pipefail
umask 077

backup=${1:?usage: deploy/restore.sh BACKUP_FILE DATABASE}
database=${2:?usage: deploy/restore.sh BACKUP_FILE DATABASE}
shelter_match=${SHELTER_MATCH:-shelter-match}

fail() { echo "restore.sh: $*" >&2; exit 1; }
command -v age >/dev/null || fail "age is not installed (apt-get install age)"
identity=${SHELTER_MATCH_BACKUP_IDENTITY:-}
[ -n "$identity" ] || fail "set SHELTER_MATCH_BACKUP_IDENTITY to the backup key (the private half)"
[ -r "$identity" ] || fail "cannot read the backup key $identity"
[ -r "$backup" ] || fail "cannot read $backup"

# Decrypted into pg_restore's input, never onto the disk.
age --decrypt --identity "$identity" "$backup" \
  | pg_restore --no-owner --no-privileges --exit-on-error --dbname="$database"

export SHELTER_MATCH_DATABASE_URL=${SHELTER_MATCH_DATABASE_URL:-postgresql+psycopg:///$database}
"$shelter_match" db upgrade
if [ -n "${SHELTER_MATCH_SERVICE_ROLE:-}" ]; then
  "$shelter_match" db grant --role "$SHELTER_MATCH_SERVICE_ROLE" >/dev/null
fi
"$shelter_match" audit verify
