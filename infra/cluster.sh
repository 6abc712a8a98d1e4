#!/usr/bin/env bash
# The cluster profile on this machine (docs/cluster.md): a Spark standalone cluster (one master,
# one small worker), an S3-compatible object store (versitygw on a local folder) with a bucket,
# Redis, and Airflow with the Celery executor (infra/cluster_airflow.sh: scheduler, dag-processor,
# api-server and a Celery worker, the metadata on the local PostgreSQL). Every process runs from the project's own files, bound to loopback, with its logs,
# pid files and data under one run folder (default .cluster/, git-ignored).
#
#   infra/cluster.sh up               start what is not running, wait until each answers, and
#                                     write $CLUSTER_DIR/env for callers to `source`
#   infra/cluster.sh down [--purge]   stop what this run folder started (by its pid files);
#                                     --purge also deletes the run folder (the bucket's data)
#   infra/cluster.sh status           one line per service; exit 0 only when all answer
#
# Idempotent: `up` twice starts nothing the second time, `down` twice stops nothing. The set-up
# (`make cluster-setup`) builds versitygw, resolves the s3a jars and installs Redis; nothing is
# downloaded here.
#
# Settings (environment; the defaults are this machine's profile):
#   LAKEHOUSE_CLUSTER_DIR      run folder (default: <repo>/.cluster)
#   CLUSTER_SPARK_PORT         Spark master (default 7077)
#   CLUSTER_SPARK_UI_PORT      master web UI (default 8090; 8080 is Airflow's)
#   CLUSTER_WORKER_UI_PORT     worker web UI (default 8091)
#   CLUSTER_WORKER_CORES       cores the worker offers (default 1)
#   CLUSTER_WORKER_MEMORY      memory the worker offers to executors (default 1536m)
#   CLUSTER_EXECUTOR_MEMORY    spark.executor.memory of the applications (default 1g)
#   CLUSTER_S3_PORT            object store (default 9000)
#   CLUSTER_REDIS_PORT         Redis (default 6380, clear of a system Redis on 6379), Celery's broker
#   CLUSTER_AIRFLOW            1 (default): Airflow is part of the profile; 0 leaves it out
#   CLUSTER_AIRFLOW_PORT       Airflow's api-server (default 8085; 8080 is the local Airflow's);
#                              more CLUSTER_AIRFLOW_* settings in infra/cluster_airflow.sh
#   LAKEHOUSE_SANDBOX_DIR      the demo's agencies' side (default: <run folder>/sandbox)
#   LAKEHOUSE_S3_BUCKET        bucket to create (default lakehouse)
#   LAKEHOUSE_S3_PREFIX        the lakehouse root inside it (default demo)
#   LAKEHOUSE_S3_ACCESS_KEY    the store's root access key  (default lakehouse-demo)
#   LAKEHOUSE_S3_SECRET_KEY    its secret key (default lakehouse-demo-secret). DEV-ONLY DEFAULTS:
#                              any shared store gets its own keys, never from the repository.
#   AWS_REGION                 region to sign for (default us-east-1)
# `status` and `down` read the ports of the last `up` from $CLUSTER_DIR/env.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLUSTER_DIR=${LAKEHOUSE_CLUSTER_DIR:-$REPO/.cluster}
ENV_FILE=$CLUSTER_DIR/env
# `status` and `down` use the settings the last `up` wrote (ports, keys), unless overridden.
if [[ ${1:-} != up && -f $ENV_FILE ]]; then
  # shellcheck disable=SC1090
  source "$ENV_FILE"
fi

SPARK_PORT=${CLUSTER_SPARK_PORT:-7077}
SPARK_UI_PORT=${CLUSTER_SPARK_UI_PORT:-8090}
WORKER_UI_PORT=${CLUSTER_WORKER_UI_PORT:-8091}
WORKER_CORES=${CLUSTER_WORKER_CORES:-1}
WORKER_MEMORY=${CLUSTER_WORKER_MEMORY:-1536m}
EXECUTOR_MEMORY=${CLUSTER_EXECUTOR_MEMORY:-1g}
S3_PORT=${CLUSTER_S3_PORT:-9000}
REDIS_PORT=${CLUSTER_REDIS_PORT:-6380}
BUCKET=${LAKEHOUSE_S3_BUCKET:-lakehouse}
PREFIX=${LAKEHOUSE_S3_PREFIX:-demo}
ACCESS_KEY=${LAKEHOUSE_S3_ACCESS_KEY:-lakehouse-demo}
SECRET_KEY=${LAKEHOUSE_S3_SECRET_KEY:-lakehouse-demo-secret}
REGION=${AWS_REGION:-us-east-1}
HOST=127.0.0.1
WAIT_SECONDS=${CLUSTER_WAIT_SECONDS:-90}

PYTHON=$REPO/.venv/bin/python
VERSITYGW=$REPO/.cache/go/bin/versitygw
S3A_JARS=$REPO/.jars/s3a
PIDS=$CLUSTER_DIR/pids
LOGS=$CLUSTER_DIR/logs

# Spark's daemon scripts read these.
export SPARK_LOG_DIR=$LOGS SPARK_PID_DIR=$PIDS SPARK_WORKER_DIR=$CLUSTER_DIR/spark-work
export SPARK_LOCAL_DIRS=$CLUSTER_DIR/spark-local SPARK_CONF_DIR=$CLUSTER_DIR/conf
export SPARK_IDENT_STRING=lakehouse SPARK_LOCAL_IP=$HOST
export SPARK_DAEMON_MEMORY=${CLUSTER_DAEMON_MEMORY:-512m}
MASTER_CLASS=org.apache.spark.deploy.master.Master
WORKER_CLASS=org.apache.spark.deploy.worker.Worker
MASTER_PID=$PIDS/spark-lakehouse-$MASTER_CLASS-1.pid
WORKER_PID=$PIDS/spark-lakehouse-$WORKER_CLASS-1.pid
S3_PID=$PIDS/versitygw.pid
REDIS_PID=$PIDS/redis.pid
SANDBOX_DIR=${LAKEHOUSE_SANDBOX_DIR:-$CLUSTER_DIR/sandbox}

say() { echo "cluster: $*"; }
fail() {
  echo "cluster: FAILED: $*" >&2
  exit 1
}

# A pid file's process, alive and still the program named (not a recycled pid); prints the pid.
alive() {
  local file=$1 pattern=$2 pid
  [[ -f $file ]] || return 1
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$pattern" || return 1
  echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# Fail when another program already listens where a service of this profile is to start.
port_free() {
  if port_open "$1"; then
    fail "port $1 ($2) is taken by another process; stop it or choose another port ($3)"
  fi
}

# Wait until "$@" succeeds; on time-out fail with the tail of a log.
wait_for() {
  local what=$1 log=$2
  shift 2
  local deadline=$((SECONDS + WAIT_SECONDS))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS > deadline)); then
      echo "--- last lines of $log ---" >&2
      tail -n 20 "$log" >&2 2>/dev/null || true
      fail "$what did not answer within ${WAIT_SECONDS}s (log: $log)"
    fi
    sleep 0.5
  done
}

# --- the services' probes ------------------------------------------------------------------------
master_json() { curl -sf --max-time 3 "http://$HOST:$SPARK_UI_PORT/json/"; }
master_ready() { master_json | grep -q '"status" *: *"ALIVE"'; }
workers_alive() { master_json | tr -d ' \n' | grep -o '"aliveworkers":[0-9]*' | cut -d: -f2; }
worker_ready() { [[ $(workers_alive) -ge 1 ]]; }

# A signed S3 request (curl's SigV4; versitygw wants the payload hash header).
s3() {
  local method=$1 path=$2
  shift 2
  curl -s --max-time 5 -o /dev/null -w '%{http_code}' -X "$method" \
    --user "$ACCESS_KEY:$SECRET_KEY" --aws-sigv4 "aws:amz:$REGION:s3" \
    -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
    "$@" "http://$HOST:$S3_PORT/$path"
}
s3_ready() { [[ $(s3 GET "") == 200 ]]; }
bucket_ready() { [[ $(s3 GET "$BUCKET?list-type=2&max-keys=1") == 200 ]]; }
redis_ready() { [[ $(redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; }

# shellcheck source=infra/cluster_airflow.sh
source "$REPO/infra/cluster_airflow.sh"

spark_home() { "$PYTHON" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))'; }

# --- up ------------------------------------------------------------------------------------------
check_setup() {
  local missing=()
  command -v java >/dev/null || missing+=("java (apt-get install openjdk-17-jre-headless)")
  command -v curl >/dev/null || missing+=("curl")
  [[ -x $PYTHON ]] || missing+=("the project's venv $PYTHON (make setup)")
  [[ -x $VERSITYGW ]] || missing+=("versitygw at $VERSITYGW (make cluster-setup)")
  command -v redis-server >/dev/null || missing+=("redis-server (make cluster-setup)")
  command -v redis-cli >/dev/null || missing+=("redis-cli (make cluster-setup)")
  compgen -G "$S3A_JARS/hadoop-aws-*.jar" >/dev/null || missing+=("the s3a jars in $S3A_JARS (make cluster-setup)")
  if ((${#missing[@]})); then
    fail "not set up; missing: $(IFS=';'; echo "${missing[*]}")"
  fi
}

write_conf() {
  mkdir -p "$SPARK_CONF_DIR"
  # What every application of this profile gets (spark-submit reads it; pyspark's sessions too,
  # through SPARK_CONF_DIR in the env file): a small share of a small worker, on loopback.
  cat >"$SPARK_CONF_DIR/spark-defaults.conf" <<EOF
spark.cores.max            $WORKER_CORES
spark.executor.cores       $WORKER_CORES
spark.executor.memory      $EXECUTOR_MEMORY
spark.driver.host          $HOST
spark.driver.bindAddress   $HOST
EOF
}

write_env() {
  local tmp=$ENV_FILE.tmp
  (
    umask 077  # it holds the store's keys
    kv() { printf 'export %s=%q\n' "$1" "$2"; }
    {
      echo "# The cluster profile (infra/cluster.sh up, $(date -u +%FT%TZ)): source it, then run the lakehouse."
      kv SPARK_MASTER "spark://$HOST:$SPARK_PORT"
      kv SPARK_CONF_DIR "$SPARK_CONF_DIR"
      kv LAKEHOUSE_ROOT "s3a://$BUCKET/$PREFIX"
      kv LAKEHOUSE_EXTRA_JARS_DIR "$S3A_JARS"
      kv LAKEHOUSE_S3_BUCKET "$BUCKET"
      kv LAKEHOUSE_S3_PREFIX "$PREFIX"
      kv LAKEHOUSE_S3_ACCESS_KEY "$ACCESS_KEY"
      kv LAKEHOUSE_S3_SECRET_KEY "$SECRET_KEY"
      kv AWS_ENDPOINT_URL "http://$HOST:$S3_PORT"
      kv AWS_ACCESS_KEY_ID "$ACCESS_KEY"
      kv AWS_SECRET_ACCESS_KEY "$SECRET_KEY"
      kv AWS_REGION "$REGION"
      kv AWS_ALLOW_HTTP true
      kv AWS_CONDITIONAL_PUT etag  # deltalake/object_store: commits by conditional put
      kv LAKEHOUSE_REDIS_URL "redis://$HOST:$REDIS_PORT/0"
      kv CLUSTER_SPARK_PORT "$SPARK_PORT"
      kv CLUSTER_SPARK_UI_PORT "$SPARK_UI_PORT"
      kv CLUSTER_WORKER_UI_PORT "$WORKER_UI_PORT"
      kv CLUSTER_S3_PORT "$S3_PORT"
      kv CLUSTER_REDIS_PORT "$REDIS_PORT"
      kv CLUSTER_WORKER_CORES "$WORKER_CORES"
      kv CLUSTER_WORKER_MEMORY "$WORKER_MEMORY"
      kv CLUSTER_EXECUTOR_MEMORY "$EXECUTOR_MEMORY"
      kv CLUSTER_AIRFLOW "$AIRFLOW_ON"
      kv CLUSTER_AIRFLOW_PORT "$AIRFLOW_PORT"
      kv LAKEHOUSE_SANDBOX_DIR "$SANDBOX_DIR"
      # The demo's Celery path (lakehouse demo --executor celery) reads Airflow's settings here.
      kv LAKEHOUSE_AIRFLOW_ENV "$AIRFLOW_ENV"
    } >"$tmp"
  )
  mv "$tmp" "$ENV_FILE"
}

start_master() {
  if alive "$MASTER_PID" "$MASTER_CLASS" >/dev/null; then
    say "spark master already running"
  else
    port_free "$SPARK_PORT" "Spark master" CLUSTER_SPARK_PORT
    port_free "$SPARK_UI_PORT" "Spark master UI" CLUSTER_SPARK_UI_PORT
    "$SPARK_HOME/sbin/spark-daemon.sh" start "$MASTER_CLASS" 1 \
      --host "$HOST" --port "$SPARK_PORT" --webui-port "$SPARK_UI_PORT" >/dev/null
  fi
  wait_for "the Spark master" "$LOGS/spark-lakehouse-$MASTER_CLASS-1-$(hostname).out" master_ready
}

start_worker() {
  if alive "$WORKER_PID" "$WORKER_CLASS" >/dev/null; then
    say "spark worker already running"
  else
    port_free "$WORKER_UI_PORT" "Spark worker UI" CLUSTER_WORKER_UI_PORT
    "$SPARK_HOME/sbin/spark-daemon.sh" start "$WORKER_CLASS" 1 \
      --host "$HOST" --webui-port "$WORKER_UI_PORT" --cores "$WORKER_CORES" \
      --memory "$WORKER_MEMORY" --work-dir "$SPARK_WORKER_DIR" "spark://$HOST:$SPARK_PORT" >/dev/null
  fi
  wait_for "the Spark worker" "$LOGS/spark-lakehouse-$WORKER_CLASS-1-$(hostname).out" worker_ready
}

start_s3() {
  local log=$LOGS/versitygw.log
  if alive "$S3_PID" versitygw >/dev/null; then
    say "object store already running"
  else
    port_free "$S3_PORT" "object store" CLUSTER_S3_PORT
    mkdir -p "$CLUSTER_DIR/s3/data" "$CLUSTER_DIR/s3/meta"
    ROOT_ACCESS_KEY=$ACCESS_KEY ROOT_SECRET_KEY=$SECRET_KEY setsid nohup "$VERSITYGW" \
      --port "$HOST:$S3_PORT" posix --sidecar "$CLUSTER_DIR/s3/meta" "$CLUSTER_DIR/s3/data" \
      >"$log" 2>&1 </dev/null &
    echo $! >"$S3_PID"
  fi
  wait_for "the object store" "$log" s3_ready
  local code
  code=$(s3 PUT "$BUCKET")
  [[ $code == 200 || $code == 409 ]] || fail "could not create bucket $BUCKET (HTTP $code)"
  bucket_ready || fail "bucket $BUCKET does not answer after its creation"
}

start_redis() {
  local log=$LOGS/redis.log
  if alive "$REDIS_PID" redis-server >/dev/null; then
    say "redis already running"
  else
    port_free "$REDIS_PORT" "Redis" CLUSTER_REDIS_PORT
    mkdir -p "$CLUSTER_DIR/redis"
    # No persistence: the profile's broker holds only queued tasks; loopback only.
    redis-server --bind "$HOST" --port "$REDIS_PORT" --daemonize yes --pidfile "$REDIS_PID" \
      --logfile "$log" --dir "$CLUSTER_DIR/redis" --save '' --appendonly no >/dev/null
  fi
  wait_for "Redis" "$log" redis_ready
}

up() {
  check_setup
  local t0=$SECONDS
  mkdir -p "$PIDS" "$LOGS" "$SPARK_WORKER_DIR" "$SPARK_LOCAL_DIRS"
  SPARK_HOME=$(spark_home) || fail "pyspark is not installed in $PYTHON (make setup)"
  export SPARK_HOME
  write_conf
  start_s3
  start_redis
  start_master
  start_worker
  write_env
  airflow_up
  say "up in $((SECONDS - t0))s: spark://$HOST:$SPARK_PORT (UI http://$HOST:$SPARK_UI_PORT)," \
    "s3 http://$HOST:$S3_PORT bucket $BUCKET, redis://$HOST:$REDIS_PORT$([[ $AIRFLOW_ON != 1 ]] \
    || echo ", Airflow (Celery) http://$HOST:$AIRFLOW_PORT"); source $ENV_FILE"
}

# --- down ----------------------------------------------------------------------------------------
stop_one() {
  local name=$1 file=$2 pattern=$3 pid
  if pid=$(alive "$file" "$pattern"); then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do
      [[ -d /proc/$pid ]] || break
      sleep 0.25
    done
    if [[ -d /proc/$pid ]]; then
      kill -9 "$pid" 2>/dev/null || true
      say "$name (pid $pid) killed after 15s"
    else
      say "$name stopped (pid $pid)"
    fi
  else
    say "$name not running"
  fi
  rm -f "$file"
}

down() {
  airflow_down
  stop_one "spark worker" "$WORKER_PID" "$WORKER_CLASS"
  stop_one "spark master" "$MASTER_PID" "$MASTER_CLASS"
  stop_one "object store" "$S3_PID" versitygw
  stop_one "redis" "$REDIS_PID" redis-server
  if [[ ${1:-} == --purge ]]; then
    rm -rf "$CLUSTER_DIR"
    say "run folder $CLUSTER_DIR deleted"
  fi
}

# --- status --------------------------------------------------------------------------------------
status() {
  local ok=0 pid
  line() { printf 'cluster: %-13s %s\n' "$1" "$2"; }
  if pid=$(alive "$MASTER_PID" "$MASTER_CLASS") && master_ready; then
    line "spark master" "up (pid $pid) spark://$HOST:$SPARK_PORT, UI http://$HOST:$SPARK_UI_PORT"
  else line "spark master" "down"; ok=1; fi
  if pid=$(alive "$WORKER_PID" "$WORKER_CLASS") && worker_ready; then
    line "spark worker" "up (pid $pid) $(workers_alive) alive, UI http://$HOST:$WORKER_UI_PORT"
  else line "spark worker" "down"; ok=1; fi
  if pid=$(alive "$S3_PID" versitygw) && bucket_ready; then
    line "object store" "up (pid $pid) http://$HOST:$S3_PORT, bucket $BUCKET"
  else line "object store" "down"; ok=1; fi
  if pid=$(alive "$REDIS_PID" redis-server) && redis_ready; then
    line "redis" "up (pid $pid) redis://$HOST:$REDIS_PORT"
  else line "redis" "down"; ok=1; fi
  airflow_status || ok=1
  return $ok
}

case ${1:-} in
  up) up ;;
  down) down "${2:-}" ;;
  status) status ;;
  *)
    echo "usage: $0 up | down [--purge] | status" >&2
    exit 2
    ;;
esac
