# Convergence Lakehouse: set-up, demo, tests. Every target is idempotent and quick when done.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
JARS := .jars
CACHE := .cache
export AIRFLOW_HOME ?= $(CURDIR)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export TLDEXTRACT_CACHE := $(CURDIR)/$(CACHE)/tldextract
export LAKEHOUSE_SPACY_MODEL := $(CURDIR)/$(CACHE)/spacy/zh_blank

.PHONY: setup benefits-db demo test lint airflow clean help bench bench-services mutation serve \
	cluster-setup cluster-redis cluster-up cluster-down cluster-status cluster-demo bench-cluster

help:
	@echo "make demo     run the main job end to end (generate, Airflow DAGs, publish)"
	@echo "make test     run the tests"
	@echo "make airflow  the Airflow UI on http://localhost:8080 with the project's DAGs"
	@echo "make serve    the data services for other agencies on http://127.0.0.1:8400"
	@echo "make lint     ruff, mypy and the import-linter architecture contracts"
	@echo "make bench-services  the data services under load (bench/README.md; ~3 min)"
	@echo "make mutation mutation testing of the rule modules (mutation/README.md; ~10 min)"
	@echo "make cluster-up / cluster-down  the cluster profile: Spark standalone, S3 store, Redis, Airflow with Celery (docs/cluster.md)"
	@echo "make cluster-demo  the demo on the cluster profile (Spark standalone, tables in the S3 bucket)"
	@echo "make bench-cluster the nightly full load on the cluster profile against local (bench/cluster.py)"

setup: $(VENV)/.installed $(JARS)/.resolved $(CACHE)/.nlp

# The virtualenv, re-installed only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

# The JVM jars (Delta, PostgreSQL JDBC), resolved by Maven at set-up time, never at run time.
$(JARS)/.resolved: jars/pom.xml
	@mkdir -p $(JARS)
	mvn --batch-mode --quiet -f jars/pom.xml dependency:copy-dependencies \
	    -DoutputDirectory=$(CURDIR)/$(JARS) -DincludeScope=runtime
	@ls $(JARS)/delta-spark_*.jar $(JARS)/delta-storage-*.jar >/dev/null
	@touch $@

# Presidio's NLP engine on a blank Chinese spaCy pipeline (no model download), and the
# tldextract suffix list from the package's bundled snapshot (no internet at run time).
$(CACHE)/.nlp: $(VENV)/.installed
	$(BIN)/python -m masking.setup_nlp "$(CURDIR)/$(CACHE)"
	@touch $@

# The agency's benefits database (feed 6): PostgreSQL from Debian's packages, started, with the
# spec's table. Idempotent; the embedded default is postgresql://localhost:5432/benefits.
benefits-db:
	bash infra/benefits_db.sh

demo: setup benefits-db
	$(BIN)/lakehouse demo

# The benchmark (bench/README.md): N persons (default 1,000,000) and 4N, median of 3 runs;
# e.g. make bench BENCH_ARGS="--persons 100000 --repeat 3". Writes bench/results/<date>.{json,md}.
bench: setup benefits-db
	$(BIN)/python -m bench $(BENCH_ARGS)

# The data services under load (bench/README.md, "The data services"): 1,000,000 persons
# published, e-verification driven by bombardier, a ~100 MB version streamed; e.g.
# make bench-services BENCH_ARGS="--connections 32".
# Writes bench/results/<date>-services.{json,md}.
bench-services: setup $(CACHE)/go/bin/bombardier
	$(BIN)/python -m bench.services $(BENCH_ARGS)

# bombardier (Go), the load generator of bench-services: built at set-up from its tagged
# module, never downloaded at run time.
$(CACHE)/go/bin/bombardier:
	GOBIN=$(CURDIR)/$(CACHE)/go/bin go install github.com/codesenberg/bombardier@v1.2.6

# The cluster profile (docs/cluster.md): a Spark standalone cluster, an S3-compatible store
# (versitygw) with a bucket, and Redis, on loopback, run from .cluster/ by infra/cluster.sh.
# `source .cluster/env` after cluster-up points the lakehouse at it. Its set-up: the s3a jars
# (apart from .jars/, so the embedded default never loads them), versitygw built from its tagged
# Go module, Debian's redis-server, Airflow's Celery provider (the `cluster` extra of
# pyproject.toml) and PostgreSQL for Airflow's metadata (benefits-db); nothing is downloaded when
# the profile runs.
cluster-setup: setup $(VENV)/.cluster-installed $(JARS)/s3a/.resolved $(CACHE)/go/bin/versitygw \
	cluster-redis benefits-db

$(VENV)/.cluster-installed: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev,cluster]'
	@touch $@

cluster-up: cluster-setup
	bash infra/cluster.sh up

# The demo on the cluster profile (docs/cluster.md): the DAGs triggered on the profile's Airflow
# and run by its Celery worker, Spark on the standalone master, every table, log, lock and report
# in the bucket (LAKEHOUSE_ROOT=s3a://lakehouse/demo), the agencies' side generated locally under
# .cluster/sandbox and uploaded to the bucket's inbox.
cluster-demo: cluster-up benefits-db
	set -a && . ./.cluster/env && set +a && $(BIN)/lakehouse demo --executor celery $(DEMO_ARGS)

# The nightly full load (moi.household_registry, then the one-feed person coverage) on the cluster
# profile against the embedded default, on this machine (bench/cluster.py; default 1,000,000
# persons). Give the worker the machine's cores and memory, and leave Airflow out, e.g.
#   CLUSTER_AIRFLOW=0 CLUSTER_WORKER_CORES=2 CLUSTER_WORKER_MEMORY=5g CLUSTER_EXECUTOR_MEMORY=4g \
#     make bench-cluster BENCH_ARGS="--persons 100000"
# Writes bench/results/<date>-cluster.{json,md}.
bench-cluster: cluster-up
	$(BIN)/python -m bench.cluster $(BENCH_ARGS)

cluster-down:
	bash infra/cluster.sh down

cluster-status:
	bash infra/cluster.sh status

# hadoop-aws 3.4.1 (pyspark 4.0's Hadoop) and the AWS SDK v2 modules it uses (jars/s3a/pom.xml).
$(JARS)/s3a/.resolved: jars/s3a/pom.xml
	@mkdir -p $(JARS)/s3a
	mvn --batch-mode --quiet -f jars/s3a/pom.xml dependency:copy-dependencies \
	    -DoutputDirectory=$(CURDIR)/$(JARS)/s3a -DincludeScope=runtime
	@ls $(JARS)/s3a/hadoop-aws-*.jar $(JARS)/s3a/s3-2*.jar >/dev/null
	@touch $@

# versitygw (Apache-2.0), the S3-compatible server of the cluster profile and the object-store
# tests: built at set-up from its tagged module (~3 min on 2 cores), never downloaded at run time.
$(CACHE)/go/bin/versitygw:
	GOBIN=$(CURDIR)/$(CACHE)/go/bin go install github.com/versity/versitygw/cmd/versitygw@v1.8.0

# Redis from Debian's packages (root, as for PostgreSQL); not started here: cluster-up runs its own.
cluster-redis:
	@command -v redis-server >/dev/null || { \
	  [ "$$(id -u)" -eq 0 ] || { echo "redis-server is missing: run as root to install it (apt-get install redis-server)"; exit 1; }; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null 2>&1 || { \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; }; }

# Two workers (one JVM each) keep the suite well under CI's budget on 2 cores; a test file
# stays on one worker (--dist loadfile), so its module fixtures run once. Files are handed out
# in collection order (--no-loadscope-reorder: xdist would otherwise sort them by test count and
# start the one-test end-to-end file last, alone), the slowest first (tests/conftest.py).
test: setup benefits-db
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder --durations=25

# ruff, mypy, and the architecture: the import-linter contracts of .importlinter (layers point
# one way, production code never reaches the sandbox, DAG files only wire, no import cycles).
lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy cli console services stages jobs pull quality masking lineage analytics kernel audit sandbox dags bench mutation

# Mutation testing of the pure rule modules ([tool.mutmut] in pyproject.toml; not in CI): every
# mutant from scratch, then the score per module and the survivors with their diffs written to
# mutation/results/<date>.md; fails when a module is under 85 % killed (mutation/README.md).
mutation: setup
	rm -rf mutants
	@start=$$(date +%s) && $(BIN)/mutmut run --max-children 2 && echo && \
	  $(BIN)/python -m mutation.score --out mutation/results/$$(date +%F).md \
	    --seconds $$(( $$(date +%s) - start ))

# The data services for other agencies on http://127.0.0.1:8400 (README, "Data services"):
# demo keys and clients generated and announced; answers from what make demo published.
serve: setup
	$(BIN)/lakehouse serve --demo --port 8400

airflow: setup
	$(BIN)/airflow db migrate
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/airflow standalone

clean:
	rm -rf lakehouse .airflow
