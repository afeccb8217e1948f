#!/usr/bin/env bash
# Build the image of deploy/Containerfile and run it against a local PostgreSQL (#17):
# migrations as the tables' owner, then gunicorn as the service's role, and check that
#   /healthz and /readyz answer 200, GET /api/v1/regions 401 without a token, no answer
#   carries a Server header, every process runs as uid 10001, the image's own HEALTHCHECK
#   passes, and the image holds no instance/, .git, .venv, tests or build sources.
# Each check prints one line as it passes; the first that fails stops the script (exit 1).
#
# Needs: root (rootful podman); podman and runc (Debian: apt-get install podman runc),
#   curl, psql, python3; PostgreSQL on 127.0.0.1:5432 where the superuser `postgres` logs in
#   without a password (trust), as in CI (PGHOST, PGPORT, PGUSER override). Without
#   PYTHON_IMAGE, a base image localhost/bookworm-python:3.11 (Debian bookworm's python3,
#   which is 3.11) is made once with mmdebstrap (apt-get install mmdebstrap) from the Debian
#   mirror in /etc/apt/sources.list*; PYTHON_IMAGE=docker.io/library/python:3.11-slim-bookworm
#   uses the official image where a registry is reachable. pip in the build reaches its index
#   over the host's network; a CA bundle (PIP_CERT or pip's `cert` setting) and an http(s)
#   PIP_INDEX_URL of the host are passed to the build.
# Takes: about 2–3 minutes for the base image (once, kept), 1–2 minutes for the build
#   (seconds when the layers are cached), about 15 seconds for the checks.
# Leaves nothing behind but images: the base, the newest build and the build cache (each
#   change of the sources leaves cache layers as dangling images: `podman image prune`;
#   all of it: `podman rmi localhost/shelter-match:check localhost/bookworm-python:3.11`);
#   the container, its volume, the database and its two roles are removed on every exit, and
#   left-overs of an interrupted run are removed before it starts, so it can run again.
# Settings (environment): PYTHON_IMAGE, CHECK_IMAGE (localhost/shelter-match:check),
#   CHECK_DB (container_check; roles CHECK_DB_owner and CHECK_DB_app), CHECK_PORT (a free
#   port), CHECK_RUNTIME (runc when installed: crun refuses cgroups v1+v2 hybrid hosts).
# Not part of `make test`: it takes minutes and needs root.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IMAGE=${CHECK_IMAGE:-localhost/shelter-match:check}
BASE_IMAGE=localhost/bookworm-python:3.11
NAME=shelter-match-check
DB=${CHECK_DB:-container_check}
OWNER=${DB}_owner
APP=${DB}_app
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
WORK=$(mktemp -d)

say() { printf '%s\n' "$*"; }
ok() { printf 'ok    %s\n' "$*"; }
fail() { printf 'FAIL  %s\n' "$*" >&2; exit 1; }
sql() { psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }

cleanup() {
    podman rm -f -v -i "$NAME" "$NAME-files" >/dev/null 2>&1 || true
    sql -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" 2>/dev/null || true
    sql -c "DROP ROLE IF EXISTS \"$APP\"" -c "DROP ROLE IF EXISTS \"$OWNER\"" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

for tool in podman curl psql python3; do
    command -v "$tool" >/dev/null || fail "$tool is missing (Debian: apt-get install podman curl postgresql-client python3)"
done
[[ $(id -u) == 0 ]] || fail "run as root (rootful podman)"
sql -c 'SELECT 1' >/dev/null || fail "PostgreSQL at $PGHOST:$PGPORT does not let $PGUSER in"
cleanup_before() { podman rm -f -v -i "$NAME" "$NAME-files" >/dev/null 2>&1 || true
    sql -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" -c "DROP ROLE IF EXISTS \"$APP\"" \
        -c "DROP ROLE IF EXISTS \"$OWNER\"" >/dev/null; }
cleanup_before

# -- how podman may run here ----------------------------------------------------------------
# Podman asks the runtime for more open files and processes than this process may have; without
# CAP_SYS_RESOURCE (as in CI's sandbox) setrlimit fails ("error setting rlimit type 7"). Ask for
# what the host allows; podman itself caps its processes at 32768.
hard() { local v; v=$(ulimit -H "$1"); [[ $v == unlimited ]] && v=$2; (( v > $2 )) && v=$2; echo "$v"; }
RUNTIME=${CHECK_RUNTIME:-$(command -v runc >/dev/null && echo runc || echo crun)}
NOFILE=$(hard -n 1048576)
NPROC=$(hard -u 32768)
PODMAN_OPTS=(--runtime "$RUNTIME" --ulimit "nofile=$NOFILE:$NOFILE" --ulimit "nproc=$NPROC:$NPROC"
             --network=host)
# No healthcheck timer: podman sets it up through systemd, which a CI machine may lack (and
# says so even with --health-interval=disable); the check below runs the image's HEALTHCHECK
# command once, with podman exec.
RUN_OPTS=("${PODMAN_OPTS[@]}" --no-healthcheck)

# -- the base image -------------------------------------------------------------------------
debian_uri() {  # the host's Debian archive ($1: debian or debian-security), else deb.debian.org
    { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
        2>/dev/null || true; } | grep -E '^[[:space:]]*(URIs:|deb[[:space:]])' \
        | grep -oE 'https?://[^[:space:]]+' | sed 's#/$##' | grep -m1 -E "/$1\$" \
        || echo "http://deb.debian.org/$1"
}
if [[ -n ${PYTHON_IMAGE:-} ]]; then
    say "base  $PYTHON_IMAGE (given)"
elif podman image exists "$BASE_IMAGE"; then
    PYTHON_IMAGE=$BASE_IMAGE
    say "base  $PYTHON_IMAGE (made before)"
else
    command -v mmdebstrap >/dev/null || fail "mmdebstrap is missing (apt-get install mmdebstrap), or set PYTHON_IMAGE"
    archive=$(debian_uri debian)
    security=$(debian_uri debian-security)
    say "base  making $BASE_IMAGE with mmdebstrap from $archive (2–3 minutes)"
    mmdebstrap --quiet --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
        bookworm "$WORK/rootfs.tar" "deb $archive bookworm main" \
        "deb $archive bookworm-updates main" "deb $security bookworm-security main"
    podman import --quiet --change 'ENV LANG=C.UTF-8' --change 'CMD ["/bin/bash"]' \
        "$WORK/rootfs.tar" "$BASE_IMAGE" >/dev/null
    rm -f "$WORK/rootfs.tar"
    PYTHON_IMAGE=$BASE_IMAGE
fi

# -- pip's index and CA bundle, if the host needs them --------------------------------------
BUILD_OPTS=()
pip_setting() {  # pip's own setting $1 (global.cert, global.index-url) of the host, if any
    python3 -m pip config list 2>/dev/null | sed -nE "s/^(global|install)\\.$1='(.*)'\$/\\2/p" \
        | head -n1 || true
}
pip_cert=${PIP_CERT:-$(pip_setting cert)}
if [[ -n $pip_cert && -f $pip_cert ]]; then
    BUILD_OPTS+=(-v "$pip_cert:/run/pip-ca.crt:ro" --build-arg PIP_CERT=/run/pip-ca.crt)
    say "pip   CA bundle $pip_cert, mounted for the build only"
fi
pip_index=${PIP_INDEX_URL:-$(pip_setting index-url)}
if [[ $pip_index == http://* || $pip_index == https://* ]]; then
    BUILD_OPTS+=(--build-arg "PIP_INDEX_URL=$pip_index")
    say "pip   index $pip_index"
fi

# -- build ----------------------------------------------------------------------------------
# The docker format keeps the HEALTHCHECK (OCI images have none).
say "build $IMAGE from $PYTHON_IMAGE (log: the output below on failure)"
previous=$(podman image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
started=$(date +%s)
if ! podman build --format docker "${PODMAN_OPTS[@]}" "${BUILD_OPTS[@]}" \
        --build-arg "PYTHON_IMAGE=$PYTHON_IMAGE" -f "$ROOT/deploy/Containerfile" -t "$IMAGE" \
        "$ROOT" >"$WORK/build.log" 2>&1; then
    tail -n 40 "$WORK/build.log" >&2
    fail "podman build"
fi
build_seconds=$(( $(date +%s) - started ))
# The image this build replaced (and its build cache) would only fill the disk run by run.
if [[ -n $previous && $previous != "$(podman image inspect --format '{{.Id}}' "$IMAGE")" ]]; then
    podman rmi "$previous" >/dev/null 2>&1 || true
fi
size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
ok "built in ${build_seconds}s, image $(( size / 1000000 )) MB"

# -- the database: deploy/roles.sql, then the migrations inside the container as the owner --
sql -v owner="$OWNER" -v app="$APP" -v db="$DB" -f "$ROOT/deploy/roles.sql" >/dev/null
ok "database $DB with roles $OWNER and $APP (deploy/roles.sql)"
base_url="postgresql+psycopg://%s@$PGHOST:$PGPORT/$DB"
# shellcheck disable=SC2059
if ! podman run --rm "${RUN_OPTS[@]}" -e "SHELTER_MATCH_DATABASE_URL=$(printf "$base_url" "$OWNER")" \
        "$IMAGE" sh -c "shelter-match db upgrade && shelter-match db grant --role $APP" \
        >"$WORK/migrate.log" 2>&1; then
    tail -n 40 "$WORK/migrate.log" >&2
    fail "migrations in the container"
fi
ok "migrations and grants ran in the container (db upgrade, db grant --role $APP)"

# -- serve ----------------------------------------------------------------------------------
PORT=${CHECK_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
secret=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
started=$(date +%s.%N)
# shellcheck disable=SC2059
podman run -d --name "$NAME" "${RUN_OPTS[@]}" \
    -e "SHELTER_MATCH_DATABASE_URL=$(printf "$base_url" "$APP")" \
    -e "SHELTER_MATCH_SECRET_KEY=$secret" -e "SHELTER_MATCH_BIND=127.0.0.1:$PORT" \
    -e SHELTER_MATCH_WORKERS=2 "$IMAGE" >/dev/null
base=http://127.0.0.1:$PORT
for _ in $(seq 600); do
    curl -fsS -o /dev/null "$base/healthz" 2>/dev/null && break
    [[ $(podman inspect -f '{{.State.Running}}' "$NAME") == true ]] || break
    sleep 0.1
done
ready_seconds=$(python3 -c "import sys; print(f'{float(sys.argv[1]) - float(sys.argv[2]):.1f}')" "$(date +%s.%N)" "$started")
curl -fsS -o /dev/null "$base/healthz" 2>/dev/null || { podman logs "$NAME" >&2 || true; fail "no /healthz within 60 s"; }
ok "serving on $base, /healthz answered ${ready_seconds}s after podman run"

expect() {  # expect STATUS PATH: the status, and no Server header
    local status
    status=$(curl -sS -D "$WORK/headers" -o "$WORK/body" -w '%{http_code}' "$base$2")
    [[ $status == "$1" ]] || { cat "$WORK/headers" "$WORK/body" >&2; fail "GET $2 answered $status, not $1"; }
    if grep -qi '^server:' "$WORK/headers"; then fail "GET $2 carries $(grep -i '^server:' "$WORK/headers")"; fi
    ok "GET $2 $status, no Server header"
}
expect 200 /healthz
expect 200 /readyz
expect 401 /api/v1/regions

mapfile -t users < <(podman top "$NAME" huser | awk 'NR > 1 {print $1}')
(( ${#users[@]} > 0 )) || fail "podman top shows no process"
for user in "${users[@]}"; do [[ $user == 10001 ]] || fail "a process runs as $user"; done
for pid in $(podman top "$NAME" hpid | awk 'NR > 1 {print $1}'); do
    uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$pid/status")
    [[ $uids == "10001 10001 10001 10001" ]] || fail "process $pid has uids $uids"
done
ok "all ${#users[@]} processes (gunicorn and its workers) run as uid 10001 (podman top, /proc/PID/status)"

mapfile -d '' -t health < <(podman image inspect --format '{{json .Config.Healthcheck.Test}}' "$IMAGE" \
    | python3 -c 'import json, sys; t = json.load(sys.stdin) or ["NONE"]
cmd = {"CMD": t[1:], "CMD-SHELL": ["sh", "-c", " ".join(t[1:])]}.get(t[0], [])
sys.stdout.write("".join(a + "\0" for a in cmd))')
(( ${#health[@]} > 0 )) || fail "the image has no HEALTHCHECK (built without --format docker?)"
podman exec "$NAME" "${health[@]}" >&2 || fail "the image's HEALTHCHECK fails in the running container"
ok "the image's HEALTHCHECK passes (run with podman exec)"

# -- the image's files ----------------------------------------------------------------------
podman create --name "$NAME-files" "${RUN_OPTS[@]}" "$IMAGE" >/dev/null
podman export "$NAME-files" | tar -t | sed 's#^\./##' >"$WORK/files"
podman rm -f -v "$NAME-files" >/dev/null
grep -qx 'opt/venv/lib/python3\.11/site-packages/shelter_match/cli\.py' "$WORK/files" \
    || fail "the image lacks the installed package (is the listing empty?)"
forbidden=$(grep -E '(^|/)(instance|\.git|\.venv|\.env)(/|$)|^src/|(^|/site-packages/|^opt/shelter-match/|^var/lib/shelter-match/)tests/' \
    "$WORK/files" || true)
[[ -z $forbidden ]] || { head -n 20 <<<"$forbidden" >&2; fail "the image holds what it must not"; }
ok "the image's $(wc -l <"$WORK/files") files hold no instance/, .git, .venv, .env, tests/ or /src"

say "all checks passed ($IMAGE: ${build_seconds}s build, $(( size / 1000000 )) MB, /healthz after ${ready_seconds}s)"
