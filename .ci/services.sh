# Sourced by .ci/run: starts the services the tests need if they are down
# (the machine starts them before a session; a fault test or a reboot may
# have left one stopped). Each start command is the machine's own.
up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() { # port name
  for _ in $(seq 1 60); do up "$1" && return 0; sleep 0.5; done
  echo "$2 did not come up on 127.0.0.1:$1" >&2; return 1
}

ensure_services() {
  if ! up 5432; then
    echo "== starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    wait_for 5432 PostgreSQL
  fi
  if ! up 3306; then
    echo "== starting MariaDB"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
    wait_for 3306 MariaDB
  fi
  if ! up 6379; then
    echo "== starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
    wait_for 6379 Redis
  fi
}
