-- The two PostgreSQL roles of a shelter-match installation, and its database.
--
--   owner (shelter_match_owner): owns the database and every table; runs the migrations
--         (`shelter-match db upgrade`) and grants (`shelter-match db grant`). Nothing else
--         logs in as the owner.
--   app   (shelter_match_app): the service itself (gunicorn, the matcher, purge, sweep).
--         Owns nothing, so it cannot disable a trigger, truncate or drop a table; it gets
--         SELECT/INSERT/UPDATE/DELETE table by table, and on the audit log only SELECT and
--         INSERT (`db grant`).
--
-- Run once, as a PostgreSQL superuser:
--   psql -U postgres -v owner=shelter_match_owner -v app=shelter_match_app \
--        -v db=shelter_match -f deploy/roles.sql
-- (the three names default to those above). Then give both roles a password
-- (`\password shelter_match_app`) or certificate authentication in pg_hba.conf, and run,
-- as the owner, `shelter-match db upgrade` and `shelter-match db grant --role
-- shelter_match_app` (deploy/shelter-match-migrate.service does both at every start).
\set ON_ERROR_STOP on
\if :{?owner} \else \set owner shelter_match_owner \endif
\if :{?app} \else \set app shelter_match_app \endif
\if :{?db} \else \set db shelter_match \endif

-- NOINHERIT and no membership between them: the app must never act with the owner's rights.
CREATE ROLE :"owner" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE ROLE :"app" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    NOINHERIT;
CREATE DATABASE :"db" OWNER :"owner";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO :"app";

\connect :"db"
-- PostgreSQL 15 and later already refuse CREATE in public to others than its owner; older
-- versions allow it to everyone, which would let the app create objects it then owns.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
ALTER SCHEMA public OWNER TO :"owner";
