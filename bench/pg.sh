# Sourced by bench/run.sh: a throwaway PostgreSQL cluster for the benchmarks (the tests use
# the same recipe in Rust, src/server/store/postgres/throwaway.rs). pg_start PORT prints
# nothing and sets PG_URL_BASE; pg_createdb NAME adds a database; pg_stop removes the cluster.
pg_bin=$(dirname "$(readlink -f "$(command -v initdb 2>/dev/null || ls /usr/lib/postgresql/*/bin/initdb | sort | tail -1)")")
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_start() {
  PG_DIR=$(mktemp -d /tmp/statuscast-bench-pg.XXXXXX)
  [ "$(id -u)" = 0 ] && chown postgres: "$PG_DIR"
  as_pg "$pg_bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust --no-sync -E UTF8 --locale=C >/dev/null
  as_pg "$pg_bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $1 -k $PG_DIR -c max_connections=300" start >/dev/null
  PG_URL_BASE=postgres://postgres@127.0.0.1:$1
}
pg_createdb() { as_pg "$pg_bin/createdb" -h 127.0.0.1 -p "${PG_URL_BASE##*:}" -U postgres "$1"; }
pg_stop() {
  [ -n "${PG_DIR:-}" ] || return 0
  as_pg "$pg_bin/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"; PG_DIR=""
}
