#!/bin/sh
# First start of the postgres container: the application's own role, its master database and the two clinic
# databases beside it (ADR 0016: <db>_shared holds the clinics by default, <db>_group a clinic group of its own). The
# app never connects as the superuser; its role owns the databases and the schemas it creates.
set -e
db="${KB_DB:-ketaminebilling}"
user="${KB_DB_USER:-kb_app}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<SQL
CREATE ROLE ${user} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '${KB_DB_PASSWORD:-kb_app_dev}';
CREATE DATABASE ${db} OWNER ${user} ENCODING 'UTF8';
REVOKE ALL ON DATABASE ${db} FROM PUBLIC;
CREATE DATABASE ${db}_shared OWNER ${user} ENCODING 'UTF8';
REVOKE ALL ON DATABASE ${db}_shared FROM PUBLIC;
CREATE DATABASE ${db}_group OWNER ${user} ENCODING 'UTF8';
REVOKE ALL ON DATABASE ${db}_group FROM PUBLIC;
SQL
