#!/usr/bin/env bash
# Test machine services: starts PostgreSQL, MariaDB and Redis on loopback when installed but not
# answering (also right after `apt-get install`, when they were never started), and prepares the
# logins the suite uses: `postgres@127.0.0.1:5432` and `root@127.0.0.1:3306`, both without a
# password (tests/server/conftest.py, tests/im/conftest.py). That is a trust login for local
# users: run this on a test machine, not on a shared server. Safe to run again (each step checks
# first); exit 0 when all three answer.
set -uo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
say() { echo "services: $*"; }
up() { (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; }
wait_port() { local i; for i in $(seq 1 "${2:-30}"); do up "$1" && return 0; sleep 0.5; done; return 1; }
as_user() { if [ "$(id -u)" -eq 0 ]; then runuser -u "$1" -- "${@:2}"; else sudo -u "$1" "${@:2}"; fi; }

# Start a Debian service: systemd when it runs, else the init script, else $fallback.
start_service() {
  local name=$1
  shift
  if [ -d /run/systemd/system ] && $SUDO systemctl start "$name" 2>/dev/null; then return 0; fi
  if [ -x "/etc/init.d/$name" ] && $SUDO "/etc/init.d/$name" start >/dev/null 2>&1; then return 0; fi
  [ $# -gt 0 ] && "$@"
}

pg_start_fallback() {
  local ver
  ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
  if [ -z "$ver" ]; then  # installed with create_main_cluster = false
    ver=$(ls /usr/lib/postgresql | sort -V | tail -1)
    $SUDO pg_createcluster "$ver" main >/dev/null
  fi
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main start
}

pg_prepare() {
  psql -h 127.0.0.1 -U postgres -w -tAc 'select 1' postgres >/dev/null 2>&1 && return 0
  local hba
  hba=$(as_user postgres psql -tAc 'show hba_file' 2>/dev/null) || { say "cannot ask PostgreSQL for pg_hba.conf"; return 1; }
  if ! $SUDO grep -q '^# xiaozhibo tests' "$hba"; then
    say "PostgreSQL: trusting postgres@127.0.0.1 (the test suite's login) in $hba"
    # First matching line wins: the rule goes on top.
    $SUDO sed -i '1i # xiaozhibo tests (scripts/services.sh): postgres from loopback without a password\nhost all postgres 127.0.0.1/32 trust' "$hba"
    as_user postgres psql -tAc 'select pg_reload_conf()' >/dev/null
  fi
}

mariadb_start_fallback() {
  $SUDO install -d -o mysql -g mysql /run/mysqld
  $SUDO start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
}

mariadb_prepare() {
  mysql -uroot -h127.0.0.1 -e 'select 1' >/dev/null 2>&1 && return 0
  say "MariaDB: creating root@127.0.0.1 without a password (the test suite's login)"
  # root@localhost logs in through the unix socket as the system root.
  $SUDO mysql -uroot -e "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
    GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES;"
}

if command -v pg_ctlcluster >/dev/null; then
  up 5432 || start_service postgresql pg_start_fallback || true
  wait_port 5432 && { pg_prepare || true; }
fi
if [ -x /usr/sbin/mariadbd ]; then
  up 3306 || start_service mariadb mariadb_start_fallback || true
  wait_port 3306 && { mariadb_prepare || true; }
fi
if command -v redis-server >/dev/null; then
  up 6379 || start_service redis-server \
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null || true
fi
for _ in $(seq 1 60); do up 5432 && up 3306 && up 6379 && exit 0; sleep 0.5; done
say "warning: some services (PostgreSQL 5432, MariaDB 3306, Redis 6379) are not answering" >&2
exit 1
