#!/usr/bin/env bash
# Back up the PostgreSQL database as a dump encrypted with age (https://age-encryption.org;
# Debian: apt-get install age), to the public key(s) in a recipients file. The dump holds
# every secret address: it never touches the disk unencrypted, and only the private key,
# kept OFFLINE (not on this server), can open it. See README "Backups".
#
# Usage: deploy/backup.sh DATABASE [BACKUP_DIR]
#   DATABASE    a database name or a libpq URI (postgresql://user@host/db), for pg_dump
#   BACKUP_DIR  default /var/backups/shelter-match (made mode 700)
#   SHELTER_MATCH_BACKUP_RECIPIENTS  the age public key(s), one per line (default
#               /etc/shelter-match/backup-recipients.txt)
# Prints the path of the new backup (mode 600) on success.
set -euo pipefail
umask 077

database=${1:?usage: deploy/backup.sh DATABASE [BACKUP_DIR]}
target=${2:-/var/backups/shelter-match}
recipients=${SHELTER_MATCH_BACKUP_RECIPIENTS:-/etc/shelter-match/backup-recipients.txt}

fail() { echo "backup.sh: $*" >&2; exit 1; }
command -v age >/dev/null || fail "age is not installed (apt-get install age)"
command -v pg_dump >/dev/null || fail "pg_dump is not installed"
[ -r "$recipients" ] || fail "no recipients file $recipients (the backup key's public half: age-keygen -y KEY)"
grep -q '^age1' "$recipients" || fail "$recipients holds no age public key (age1…)"

mkdir -p "$target"
chmod 700 "$target"
file="$target/shelter-match-$(date -u +%Y%m%dT%H%M%SZ).dump.age"
partial="$file.partial"
trap 'rm -f "$partial"' EXIT

# pg_dump writes straight into age: no plaintext file, ever. pipefail makes a failed dump
# fail the backup, and the partial file is removed; only a complete backup gets its name.
pg_dump --format=custom --no-owner --no-privileges "$database" \
  | age --encrypt --recipients-file "$recipients" --output "$partial"
mv "$partial" "$file"
trap - EXIT
echo "$file"
