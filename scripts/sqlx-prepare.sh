#!/usr/bin/env bash
# Refreshes the committed query data (.sqlx/) that lets the sqlx macros check every SQL statement at
# compile time without a database, or, with --check, fails when it is stale.
#
# It starts a throw-away PostgreSQL cluster from the machine's server binaries, applies migrations/, and
# checks the workspace with the macros connected to it (DATABASE_URL): a statement that the schema
# breaks fails here. The macros write what they learn to a fresh directory, which then replaces .sqlx/
# (or, with --check, must equal it).
#
#   scripts/sqlx-prepare.sh           refresh .sqlx/ after changing SQL or a migration
#   scripts/sqlx-prepare.sh --check   what CI runs: the workspace is checked by clippy (warnings are
#                                     errors), so one pass over the code serves both checks
set -euo pipefail
cd "$(dirname "$0")/.."

check=false
[ "${1:-}" = "--check" ] && check=true

bindir="${BACKLINE_PG_BINDIR:-}"
if [ -z "$bindir" ]; then
  bindir="$(pg_config --bindir 2>/dev/null || true)"
  if [ ! -x "$bindir/initdb" ]; then
    bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  fi
fi
[ -x "$bindir/initdb" ] || { echo "no PostgreSQL server binaries (initdb) found; set BACKLINE_PG_BINDIR" >&2; exit 1; }

work="$(mktemp -d /tmp/backline-sqlx.XXXXXX)"
run_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u "${BACKLINE_PG_USER:-postgres}" -- "$@"; else "$@"; fi; }
cleanup() {
  run_pg "$bindir/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
[ "$(id -u)" -eq 0 ] && chown "${BACKLINE_PG_USER:-postgres}" "$work"

run_pg "$bindir/initdb" -D "$work/data" -U backline --auth=trust -E UTF8 >/dev/null
run_pg "$bindir/pg_ctl" -D "$work/data" -l "$work/postgresql.log" -w \
  -o "-k $work -c listen_addresses='' -p 5439 -c fsync=off" start >/dev/null
psql_run() { psql -X -q -v ON_ERROR_STOP=1 -h "$work" -p 5439 -U backline "$@"; }
psql_run -d postgres -c "CREATE DATABASE backline" >/dev/null
for migration in migrations/*.sql; do
  psql_run -d backline -1 -f "$migration" >/dev/null
done

fresh="$work/sqlx"
mkdir -p "$fresh"
# The macros run again only where the crate is compiled again.
find crates -path '*/src/*.rs' -exec touch {} +
if $check; then
  checker=(cargo clippy --workspace --all-targets --locked -- -D warnings)
else
  checker=(cargo check --workspace --all-targets --locked --quiet)
fi
DATABASE_URL="postgres://backline@localhost:5439/backline?host=$work" SQLX_OFFLINE=false SQLX_OFFLINE_DIR="$fresh" \
  "${checker[@]}"

if $check; then
  if ! diff -r -q .sqlx "$fresh" >/dev/null 2>&1; then
    diff -r -q .sqlx "$fresh" || true
    echo "The committed query data (.sqlx/) is stale: run scripts/sqlx-prepare.sh and commit .sqlx/." >&2
    exit 1
  fi
  echo "The committed query data (.sqlx/) matches the migrations and the code."
else
  rm -rf .sqlx
  cp -r "$fresh" .sqlx
  echo "Refreshed .sqlx/ ($(ls .sqlx | wc -l) statements)."
fi
