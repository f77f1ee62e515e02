#!/usr/bin/env bash
# Starts PostgreSQL, MariaDB and Redis on loopback if they are installed but not answering.
up() { (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; }
if ! up 5432 && command -v pg_ctlcluster >/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
if ! up 3306 && [ -x /usr/sbin/mariadbd ]; then
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
fi
if ! up 6379 && command -v redis-server >/dev/null; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null || true
fi
for i in $(seq 1 30); do up 5432 && up 3306 && up 6379 && exit 0; sleep 1; done
echo "warning: some services (PostgreSQL 5432, MariaDB 3306, Redis 6379) are not answering" >&2
exit 1
