#!/usr/bin/env bash
# Start or stop the servers the tests use, on 127.0.0.1 only, inside one folder:
#   test-services.sh start DIR   -> PostgreSQL 15, Redis, SeaweedFS S3, MariaDB; writes DIR/env
#   test-services.sh stop DIR    -> stops what `start` started (by pid) and removes DIR
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
WEED=${WEED:-$ROOT/.venv/bin/weed}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
MARIADBD=${MARIADBD:-$(command -v mariadbd || echo /usr/sbin/mariadbd)}
S3_KEY=chevereto-test
S3_SECRET=chevereto-test-secret
BUCKET=chevereto-test

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

as_postgres() {
  # initdb and pg_ctl refuse to run as root.
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

wait_for() {  # wait_for SECONDS DESCRIPTION LOGFILE COMMAND...
  local seconds=$1 what=$2 log=$3; shift 3
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      echo "$what did not become ready in ${seconds}s; last lines of $log:" >&2
      tail -n 30 "$log" >&2 || true
      return 1
    fi
    sleep 0.3
  done
}

start() {
  local dir=$1
  mkdir -p "$dir"
  chmod 755 "$dir"

  # PostgreSQL: a throw-away cluster, tuned for speed over durability.
  local pgport; pgport=$(free_port)
  mkdir -p "$dir/pgdata" "$dir/pgsock"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir/pgdata" "$dir/pgsock"
  as_postgres "$PGBIN/initdb" -D "$dir/pgdata" -A trust -U postgres --no-sync >"$dir/initdb.log" 2>&1
  as_postgres "$PGBIN/pg_ctl" -D "$dir/pgdata" -l "$dir/pgdata/server.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $pgport -k $dir/pgsock -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    >/dev/null
  echo "$pgport" >"$dir/pg.port"
  as_postgres "$PGBIN/psql" -h 127.0.0.1 -p "$pgport" -U postgres -qAt \
    -c "CREATE ROLE chevereto LOGIN PASSWORD 'chevereto' CREATEDB" \
    -c "CREATE DATABASE chevereto OWNER chevereto" >/dev/null

  # Redis, no persistence.
  local redisport; redisport=$(free_port)
  mkdir -p "$dir/redis"
  redis-server --port "$redisport" --bind 127.0.0.1 --daemonize yes --dir "$dir/redis" \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save "" --appendonly no
  wait_for 20 Redis "$dir/redis.log" redis-cli -h 127.0.0.1 -p "$redisport" ping

  # SeaweedFS: master, volume, filer and S3 in one process; every port chosen here.
  local s3port; s3port=$(free_port)
  mkdir -p "$dir/weed"
  AWS_ACCESS_KEY_ID=$S3_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET nohup "$WEED" mini \
    -dir="$dir/weed" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -master.port="$(free_port)" -master.port.grpc="$(free_port)" \
    -volume.port="$(free_port)" -volume.port.grpc="$(free_port)" \
    -filer.port="$(free_port)" -filer.port.grpc="$(free_port)" \
    -s3.port="$s3port" -s3.port.grpc="$(free_port)" -s3.port.iceberg=0 -s3.port.lance=0 \
    -admin.ui=false -admin.port="$(free_port)" -admin.port.grpc="$(free_port)" -webdav=false \
    -bucket="$BUCKET" >"$dir/weed.log" 2>&1 &
  echo $! >"$dir/weed.pid"
  wait_for 90 "SeaweedFS S3" "$dir/weed.log" "$PY" - "$s3port" "$S3_KEY" "$S3_SECRET" "$BUCKET" <<'PYEOF'
import sys
import boto3
from botocore.config import Config
port, key, secret, bucket = sys.argv[1:5]
s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id=key,
                  aws_secret_access_key=secret, region_name="us-east-1",
                  config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                                connect_timeout=2, read_timeout=5, retries={"max_attempts": 1}))
names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
if bucket not in names:
    s3.create_bucket(Bucket=bucket)
s3.put_object(Bucket=bucket, Key="ready", Body=b"ok")
s3.delete_object(Bucket=bucket, Key="ready")
PYEOF

  # MariaDB: the source database of import_chevereto's tests (a Chevereto site is MySQL).
  # root has no password on 127.0.0.1; the tests make their own databases and a read-only
  # account. Durability off: a throw-away server.
  local myport; myport=$(free_port)
  mkdir -p "$dir/mariadb"
  mariadb-install-db --no-defaults --datadir="$dir/mariadb/data" --user="$(id -un)" \
    --auth-root-authentication-method=normal --skip-test-db >"$dir/mariadb-install.log" 2>&1
  nohup "$MARIADBD" --no-defaults --datadir="$dir/mariadb/data" --socket="$dir/mariadb/sock" \
    --port="$myport" --bind-address=127.0.0.1 --user="$(id -un)" --skip-name-resolve \
    --pid-file="$dir/mariadb/mariadbd.pid" --log-error="$dir/mariadb.log" --skip-log-bin \
    --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 --innodb-buffer-pool-size=64M \
    >/dev/null 2>&1 &
  echo $! >"$dir/mariadb.pid"
  wait_for 60 MariaDB "$dir/mariadb.log" \
    mariadb --no-defaults -h 127.0.0.1 -P "$myport" -u root -e "SELECT 1"

  cat >"$dir/env" <<ENVEOF
export TEST_DATABASE_URL=postgres://chevereto:chevereto@127.0.0.1:$pgport/chevereto
export TEST_REDIS_URL=redis://127.0.0.1:$redisport/0
export TEST_S3_ENDPOINT_URL=http://127.0.0.1:$s3port
export TEST_S3_ACCESS_KEY_ID=$S3_KEY
export TEST_S3_SECRET_ACCESS_KEY=$S3_SECRET
export TEST_S3_BUCKET=$BUCKET
export TEST_S3_REGION=us-east-1
export TEST_MARIADB_URL=mysql://root@127.0.0.1:$myport/
ENVEOF
}

stop_pid() {  # stop_pid PIDFILE: TERM, wait, then KILL
  local file=$1 pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

stop() {
  local dir=$1
  [ -d "$dir" ] || return 0
  if [ -f "$dir/pgdata/postmaster.pid" ]; then
    as_postgres "$PGBIN/pg_ctl" -D "$dir/pgdata" -m fast -w -t 30 stop >/dev/null 2>&1 || true
  fi
  stop_pid "$dir/redis.pid"
  stop_pid "$dir/weed.pid"
  stop_pid "$dir/mariadb.pid"
  rm -rf "$dir"
}

case "${1:-}" in
  start) start "${2:?usage: $0 start DIR}" ;;
  stop) stop "${2:?usage: $0 stop DIR}" ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
