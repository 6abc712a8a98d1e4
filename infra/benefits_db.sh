#!/usr/bin/env bash
# The benefits database of feed 6 (bli.benefit_payments) on this machine, for the demo and the
# tests: a local PostgreSQL with the role, the database and the agency's table.
#
# Idempotent: installs Debian's PostgreSQL if it is missing (apt-get, needs root), creates a
# cluster if there is none, starts it if it is down, then creates (or keeps) the role, the
# database `benefits` owned by it, and the table `benefit_payments` exactly as the interface
# specification's DDL (../shared/specs/agencies.md, section 6) plus an index on updated_at.
# Prints one line of status; exits non-zero with a clear message on failure.
#
# Settings (environment):
#   LAKEHOUSE_BENEFITS_DB_USER      role to create (default: lakehouse)
#   LAKEHOUSE_BENEFITS_DB_PASSWORD  its password (default: lakehouse). DEV-ONLY DEFAULT: a
#                                   shared or production database gets its own secret, held in
#                                   the Airflow connection `benefits_db`, never in the repository.
# The database is always `benefits`; the cluster is the first local one (port from
# pg_lsclusters). The pipeline reaches it at LAKEHOUSE_BENEFITS_DB_URL
# (default postgresql://localhost:5432/benefits).
set -euo pipefail

DB_USER=${LAKEHOUSE_BENEFITS_DB_USER:-lakehouse}
DB_PASSWORD=${LAKEHOUSE_BENEFITS_DB_PASSWORD:-lakehouse}
DB_NAME=benefits

fail() {
  echo "benefits_db: FAILED: $*" >&2
  exit 1
}

[[ $DB_USER =~ ^[a-z_][a-z0-9_]*$ ]] || fail "LAKEHOUSE_BENEFITS_DB_USER must be a plain lower-case name"

# --- 1. PostgreSQL installed -------------------------------------------------------------------
if ! command -v pg_lsclusters >/dev/null 2>&1 || ! command -v psql >/dev/null 2>&1; then
  [[ $(id -u) -eq 0 ]] || fail "PostgreSQL is not installed; run this script as root to install it (apt-get install postgresql)"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq postgresql >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 || fail "apt-get update failed (no network or no package mirror?)"
    apt-get install -y -qq postgresql >/dev/null 2>&1 || fail "apt-get install postgresql failed"
  fi
fi

# Run a command as the database superuser `postgres` (peer authentication on the socket).
as_postgres() {
  if [[ $(id -un) == postgres ]]; then
    "$@"
  elif [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo -n -u postgres -- "$@"
  else
    fail "run this script as root or as postgres (it administers the local cluster)"
  fi
}

# --- 2. A cluster, running ---------------------------------------------------------------------
cluster_line() { pg_lsclusters --no-header 2>/dev/null | head -n 1; }
line=$(cluster_line)
if [[ -z $line ]]; then
  version=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1)
  [[ -n $version ]] || fail "no PostgreSQL server binaries under /usr/lib/postgresql"
  [[ $(id -u) -eq 0 ]] || fail "no PostgreSQL cluster; run this script as root to create one"
  pg_createcluster "$version" main >/dev/null || fail "pg_createcluster $version main failed"
  line=$(cluster_line)
fi
read -r version cluster port status _ <<<"$line"
if [[ $status != online* ]]; then
  if [[ $(id -u) -eq 0 ]]; then
    pg_ctlcluster "$version" "$cluster" start >/dev/null 2>&1 || true
  else
    as_postgres pg_ctlcluster "$version" "$cluster" start >/dev/null 2>&1 || true
  fi
fi
for _ in $(seq 1 30); do
  pg_isready -q -p "$port" && break
  sleep 1
done
pg_isready -q -p "$port" || fail "PostgreSQL $version/$cluster on port $port does not accept connections (see /var/log/postgresql/postgresql-$version-$cluster.log)"

# --- 3. Role, database, table ------------------------------------------------------------------
psql_su() { as_postgres env PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -p "$port" "$@"; }

psql_su -d postgres -v user="$DB_USER" -v password="$DB_PASSWORD" >/dev/null <<'SQL' \
  || fail "could not create or update the role"
SELECT format('CREATE ROLE %I LOGIN', :'user')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'user') \gexec
ALTER ROLE :"user" WITH LOGIN PASSWORD :'password';
SQL

psql_su -d postgres -v user="$DB_USER" -v db="$DB_NAME" >/dev/null <<'SQL' \
  || fail "could not create the database $DB_NAME"
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0', :'db', :'user', 'UTF8')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
ALTER DATABASE :"db" OWNER TO :"user";
SQL

# The table as the agency defines it (spec section 6), owned by the role.
psql_su -d "$DB_NAME" -v user="$DB_USER" >/dev/null <<'SQL' \
  || fail "could not create the table benefit_payments"
SET ROLE :"user";
CREATE TABLE IF NOT EXISTS public.benefit_payments (
  payment_id     bigint PRIMARY KEY,
  national_id    char(10)      NOT NULL,
  benefit_type   varchar(12)   NOT NULL,  -- OLD_AGE, DISABILITY, SURVIVOR
  payment_month  char(5)       NOT NULL,  -- ROC YYYMM
  amount         numeric(12,0) NOT NULL,
  bank_code      char(3),
  account_no     varchar(16),
  remark         text,                    -- clerks' free text
  updated_at     timestamptz   NOT NULL
);
CREATE INDEX IF NOT EXISTS benefit_payments_updated_at ON public.benefit_payments (updated_at);
SQL

# An existing table must be the specification's (same columns, types, nullability, order).
expected="payment_id bigint NO
national_id character(10) NO
benefit_type character varying(12) NO
payment_month character(5) NO
amount numeric(12,0) NO
bank_code character(3) YES
account_no character varying(16) YES
remark text YES
updated_at timestamp with time zone NO"
actual=$(psql_su -d "$DB_NAME" -At -F ' ' -c "
  SELECT a.attname, format_type(a.atttypid, a.atttypmod), CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END
    FROM pg_attribute a
   WHERE a.attrelid = 'public.benefit_payments'::regclass AND a.attnum > 0 AND NOT a.attisdropped
   ORDER BY a.attnum") || fail "could not read the columns of benefit_payments"
[[ $actual == "$expected" ]] \
  || fail "table benefit_payments exists with other columns than the specification's DDL (drop it, or migrate it, then re-run)"

# --- 4. The role can log in over TCP with its password, as the pipeline does -------------------
rows=$(PGPASSWORD=$DB_PASSWORD PGCONNECT_TIMEOUT=5 psql -X -At -h localhost -p "$port" \
  -U "$DB_USER" -d "$DB_NAME" -c "SELECT count(*) FROM benefit_payments" 2>/dev/null) \
  || fail "role $DB_USER cannot log in to $DB_NAME on localhost:$port with its password (check pg_hba.conf: host connections need scram-sha-256 or md5)"

echo "benefits_db: ready: PostgreSQL $version/$cluster on localhost:$port, database $DB_NAME (owner $DB_USER), table benefit_payments ($rows rows); LAKEHOUSE_BENEFITS_DB_URL=postgresql://localhost:$port/$DB_NAME"
