#!/usr/bin/env bash
# Back up the PostgreSQL database to a compressed, dated custom-format dump.
# Usage: deploy/backup.sh DATABASE_NAME [BACKUP_DIR]   (run as a user that may pg_dump)
# Backups hold secret addresses and case data: store them encrypted, restrict access.
set -euo pipefail
database=${1:?database name}
target=${2:-/var/backups/shelter-match}
mkdir -p "$target"
chmod 700 "$target"
file="$target/shelter-match-$(date -u +%Y%m%dT%H%M%SZ).dump"
pg_dump --format=custom --no-owner --file="$file" "$database"
echo "$file"
