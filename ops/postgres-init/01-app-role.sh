#!/bin/sh
# First start of the postgres container: the application's own role and database. The app never connects
# as the superuser; its role owns the database and the schemas it creates.
set -e
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<SQL
CREATE ROLE ${KB_DB_USER:-kb_app} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '${KB_DB_PASSWORD:-kb_app_dev}';
CREATE DATABASE ${KB_DB:-ketaminebilling} OWNER ${KB_DB_USER:-kb_app} ENCODING 'UTF8';
REVOKE ALL ON DATABASE ${KB_DB:-ketaminebilling} FROM PUBLIC;
SQL
