# shellcheck shell=bash
# Airflow on the cluster profile (docs/cluster.md), sourced by infra/cluster.sh (its helpers:
# say, fail, alive, port_open, port_free, wait_for; its settings: REPO, CLUSTER_DIR, HOST,
# PIDS, LOGS, ENV_FILE, REDIS_PORT): the Celery executor with Redis as its broker, the metadata
# database and Celery's results on the local PostgreSQL (the one of feed 6, infra/benefits_db.sh),
# and the components: scheduler, dag-processor, api-server, one Celery worker.
#
# Settings (environment):
#   CLUSTER_AIRFLOW              1 (default) runs Airflow with the profile; 0 leaves it out
#   CLUSTER_AIRFLOW_PORT         the api-server (default 8085; 8080 is the local Airflow's)
#   CLUSTER_AIRFLOW_CONCURRENCY  task slots of the Celery worker (default 1: one Spark driver at
#                                a time, the run-record tables take one writer)
#   CLUSTER_AIRFLOW_DB           database and role of the metadata (default airflow_cluster)
#   CLUSTER_AIRFLOW_DB_PASSWORD  its password (default airflow-cluster; DEV-ONLY)
#   LAKEHOUSE_PSEUDONYM_KEY      the tasks' key (default: the demo's, sandbox.demo.DEMO_KEY)

AIRFLOW_ON=${CLUSTER_AIRFLOW:-1}
AIRFLOW_PORT=${CLUSTER_AIRFLOW_PORT:-8085}
AIRFLOW_CONCURRENCY=${CLUSTER_AIRFLOW_CONCURRENCY:-1}
AIRFLOW_DB=${CLUSTER_AIRFLOW_DB:-airflow_cluster}
AIRFLOW_DB_PASSWORD=${CLUSTER_AIRFLOW_DB_PASSWORD:-airflow-cluster}
AIRFLOW_DIR=$CLUSTER_DIR/airflow
AIRFLOW_ENV=$AIRFLOW_DIR/env
AIRFLOW_BIN=$REPO/.venv/bin/airflow
# name, then the `airflow` arguments; the name is the pid and log file's.
AIRFLOW_COMPONENTS=(scheduler dag-processor api-server celery-worker)

airflow_args() {
  case $1 in
    scheduler) echo scheduler ;;
    dag-processor) echo dag-processor ;;
    api-server) echo "api-server --host $HOST --port $AIRFLOW_PORT --workers 1" ;;
    celery-worker) echo "celery worker --concurrency $AIRFLOW_CONCURRENCY --skip-serve-logs" ;;
  esac
}

# What a component's process is called once it runs (the api-server and the worker rename
# themselves), for `alive` to tell it from a recycled pid.
airflow_pattern() {
  case $1 in
    api-server) echo "airflow api.server" ;;
    celery-worker) echo "celery worker" ;;
    *) echo "airflow $1" ;;
  esac
}

pg_port() { pg_lsclusters --no-header 2>/dev/null | awk 'NR == 1 {print $3}'; }

# The metadata database and its role, on the first local PostgreSQL cluster (started, with
# PostgreSQL installed if need be, by infra/benefits_db.sh). Idempotent.
airflow_db() {
  [[ $AIRFLOW_DB =~ ^[a-z_][a-z0-9_]*$ ]] || fail "CLUSTER_AIRFLOW_DB must be a plain lower-case name"
  local port
  port=$(pg_port)
  if [[ -z $port ]] || ! pg_isready -q -h "$HOST" -p "$port"; then
    bash "$REPO/infra/benefits_db.sh" >/dev/null || fail "PostgreSQL could not be started (bash infra/benefits_db.sh)"
    port=$(pg_port)
  fi
  local su=(env PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -p "$port" -d postgres)
  if [[ $(id -u) -eq 0 ]]; then su=(runuser -u postgres -- "${su[@]}"); fi
  "${su[@]}" -v user="$AIRFLOW_DB" -v password="$AIRFLOW_DB_PASSWORD" >/dev/null <<'SQL' \
    || fail "could not create the role and database $AIRFLOW_DB"
SELECT format('CREATE ROLE %I LOGIN', :'user')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'user') \gexec
ALTER ROLE :"user" WITH LOGIN PASSWORD :'password';
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0', :'user', :'user', 'UTF8')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'user') \gexec
SQL
  echo "$port"
}

# $AIRFLOW_DIR/env (0600): what every component and `airflow` command of the profile reads, on
# top of $ENV_FILE (the tasks' Spark, store and keys).
airflow_write_env() {
  local port=$1 db jwt
  mkdir -p "$AIRFLOW_DIR"
  [[ -s $AIRFLOW_DIR/jwt_secret ]] || (umask 077 && head -c 48 /dev/urandom | base64 -w0 >"$AIRFLOW_DIR/jwt_secret")
  jwt=$(<"$AIRFLOW_DIR/jwt_secret")
  db="$AIRFLOW_DB:$AIRFLOW_DB_PASSWORD@$HOST:$port/$AIRFLOW_DB"
  local key=${LAKEHOUSE_PSEUDONYM_KEY:-}
  [[ -n $key ]] || key=$(cd "$REPO" && "$PYTHON" -c 'from sandbox.demo import DEMO_KEY; print(DEMO_KEY)')
  (
    umask 077
    kv() { printf 'export %s=%q\n' "$1" "$2"; }
    {
      echo "# Airflow of the cluster profile (infra/cluster.sh up): source $ENV_FILE first."
      kv AIRFLOW_HOME "$AIRFLOW_DIR"
      kv AIRFLOW__CORE__DAGS_FOLDER "$REPO/dags"
      kv AIRFLOW__CORE__LOAD_EXAMPLES False
      kv AIRFLOW__CORE__EXECUTOR CeleryExecutor
      kv AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION False
      kv AIRFLOW__CORE__EXECUTION_API_SERVER_URL "http://$HOST:$AIRFLOW_PORT/execution/"
      kv AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS True
      kv AIRFLOW__API__HOST "$HOST"
      kv AIRFLOW__API__PORT "$AIRFLOW_PORT"
      kv AIRFLOW__API__BASE_URL "http://$HOST:$AIRFLOW_PORT"
      kv AIRFLOW__API_AUTH__JWT_SECRET "$jwt"
      kv AIRFLOW__API__SECRET_KEY "$jwt"
      kv AIRFLOW__DATABASE__SQL_ALCHEMY_CONN "postgresql+psycopg://$db"
      kv AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC "postgresql+psycopg://$db"
      kv AIRFLOW__CELERY__BROKER_URL "redis://$HOST:$REDIS_PORT/0"
      kv AIRFLOW__CELERY__RESULT_BACKEND "db+postgresql+psycopg://$db"
      kv AIRFLOW__CELERY__WORKER_CONCURRENCY "$AIRFLOW_CONCURRENCY"
      # Runs are triggered (lakehouse demo --executor celery), never from schedules or assets:
      # two runs at once would be two Spark drivers on the shared run-record tables.
      kv AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE False
      kv AIRFLOW__LOGGING__LOGGING_LEVEL INFO
      kv AIRFLOW__OPENLINEAGE__NAMESPACE airflow
      kv LAKEHOUSE_PSEUDONYM_KEY "$key"
      kv LAKEHOUSE_SOURCES_DIR "$SANDBOX_DIR/sources"
      kv LAKEHOUSE_PROGRESS_STDOUT 1
      kv TLDEXTRACT_CACHE "${TLDEXTRACT_CACHE:-$REPO/.cache/tldextract}"
      kv LAKEHOUSE_SPACY_MODEL "${LAKEHOUSE_SPACY_MODEL:-$REPO/.cache/spacy/zh_blank}"
      kv PATH "$REPO/.venv/bin:$PATH"
    } >"$AIRFLOW_ENV.tmp"
  )
  mv "$AIRFLOW_ENV.tmp" "$AIRFLOW_ENV"
}

# Run an `airflow` command in the profile's environment.
airflow_run() {
  (
    set +u
    # shellcheck disable=SC1090
    source "$ENV_FILE" && source "$AIRFLOW_ENV"
    exec "$AIRFLOW_BIN" "$@"
  )
}

airflow_health() { curl -sf --max-time 5 "http://$HOST:$AIRFLOW_PORT/api/v2/monitor/health"; }
api_ready() { airflow_health >/dev/null; }
component_healthy() { airflow_health | tr -d ' \n' | grep -q "\"$1\":{\"status\":\"healthy\""; }
celery_ready() { grep -q "celery@.* ready" "$LOGS/airflow-celery-worker.log"; }
airflow_ready() {
  case $1 in
    api-server) api_ready ;;
    scheduler) component_healthy scheduler ;;
    dag-processor) component_healthy dag_processor ;;
    celery-worker) celery_ready ;;
  esac
}

airflow_up() {
  [[ $AIRFLOW_ON == 1 ]] || { say "airflow left out (CLUSTER_AIRFLOW=$AIRFLOW_ON)"; return 0; }
  [[ -x $AIRFLOW_BIN ]] || fail "airflow is not installed in the venv (make setup)"
  "$PYTHON" -c 'import airflow.providers.celery' 2>/dev/null \
    || fail "apache-airflow-providers-celery is not installed (make cluster-setup)"
  local name pid missing=()
  for name in "${AIRFLOW_COMPONENTS[@]}"; do
    alive "$PIDS/airflow-$name.pid" "$(airflow_pattern "$name")" >/dev/null || missing+=("$name")
  done
  local port
  port=$(airflow_db) || exit 1
  airflow_write_env "$port"
  if ((${#missing[@]})); then
    [[ " ${missing[*]} " != *" api-server "* ]] || port_free "$AIRFLOW_PORT" "Airflow api-server" CLUSTER_AIRFLOW_PORT
    airflow_run db migrate >>"$LOGS/airflow-db-migrate.log" 2>&1 \
      || fail "airflow db migrate failed (log: $LOGS/airflow-db-migrate.log)"
  fi
  for name in "${AIRFLOW_COMPONENTS[@]}"; do
    if alive "$PIDS/airflow-$name.pid" "$(airflow_pattern "$name")" >/dev/null; then
      say "airflow $name already running"
      continue
    fi
    # shellcheck disable=SC2016,SC2046  # $0/$1 are the inner shell's; the arguments are words
    setsid nohup bash -c 'source "$0" && source "$1" && shift && exec "$@"' \
      "$ENV_FILE" "$AIRFLOW_ENV" "$AIRFLOW_BIN" $(airflow_args "$name") \
      >"$LOGS/airflow-$name.log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$PIDS/airflow-$name.pid"
  done
  for name in "${AIRFLOW_COMPONENTS[@]}"; do
    wait_for "airflow $name" "$LOGS/airflow-$name.log" airflow_ready "$name"
  done
}

# Stop a component's whole process group (setsid: the component, its workers, the tasks and
# their Spark drivers).
# The component was started by setsid: its session id is its pid. A Celery task runs in a
# process group of its own inside that session (with its Spark driver under it), so the whole
# session is signalled, not only the component's group.
session_alive() { ps -o stat= -s "$1" 2>/dev/null | grep -qv '^Z'; }  # zombies do not count

stop_group() {
  local name=$1 file=$2 pattern=$3 pid
  if pid=$(alive "$file" "$pattern"); then
    kill -TERM -- "-$pid" 2>/dev/null || true
    pkill -TERM -s "$pid" 2>/dev/null || true
    for _ in $(seq 1 120); do
      session_alive "$pid" || break
      sleep 0.25
    done
    if session_alive "$pid"; then
      pkill -KILL -s "$pid" 2>/dev/null || true
      say "$name (pid $pid) killed after 30s, with the tasks it ran"
    else
      say "$name stopped (pid $pid)"
    fi
  else
    say "$name not running"
  fi
  rm -f "$file"
}

airflow_down() {
  local name
  for name in celery-worker scheduler dag-processor api-server; do
    if [[ $AIRFLOW_ON == 1 || -f $PIDS/airflow-$name.pid ]]; then
      stop_group "airflow $name" "$PIDS/airflow-$name.pid" "$(airflow_pattern "$name")"
    fi
  done
}

# One line per component; returns 1 when one is down.
airflow_status() {
  local ok=0 pid name
  if [[ $AIRFLOW_ON != 1 ]]; then
    printf 'cluster: %-13s %s\n' "airflow" "off (CLUSTER_AIRFLOW=$AIRFLOW_ON)"
    return 0
  fi
  for name in "${AIRFLOW_COMPONENTS[@]}"; do
    if pid=$(alive "$PIDS/airflow-$name.pid" "$(airflow_pattern "$name")") && airflow_ready "$name"; then
      printf 'cluster: %-13s %s\n' "airflow $name" "up (pid $pid)$([[ $name != api-server ]] \
        || echo " http://$HOST:$AIRFLOW_PORT")"
    else
      printf 'cluster: %-13s %s\n' "airflow $name" "down"
      ok=1
    fi
  done
  return $ok
}
