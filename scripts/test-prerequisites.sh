#!/usr/bin/env bash
# What `npm test` needs beside node_modules, made ready before the first test runs (npm calls this
# as `pretest`; .ci/run calls it too). Starts Redis and PostgreSQL when they do not answer, installs
# Prometheus, Alertmanager and Chromium from Debian's packages where it can, and otherwise stops in
# the first seconds naming what to install. Quiet and fast (well under a second) when all is ready.
set -euo pipefail

die() { printf '\nnpm test cannot run: %s\n' "$*" >&2; exit 1; }
can_install() { command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; }
apt_install() {
  echo "installing $* from Debian's packages (needed by the tests)" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"; } >/dev/null \
    || die "could not install $* (apt-get install $*)"
}

[ "$(node --version | cut -d. -f1)" = "v24" ] \
  || die "the project's Node 24 is not first on PATH: run the tests with npm test (after npm ci)"

# Redis: the tests use 127.0.0.1:6379 (TEST_REDIS_URL chooses a database) and start their own
# servers from redis-server for restart and cluster tests.
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  if ! command -v redis-server >/dev/null 2>&1; then
    can_install || die "Redis is not installed and does not answer on 127.0.0.1:6379 (apt-get install redis-server)"
    apt_install redis-server
  fi
  mkdir -p /tmp/rollback-bot-redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /tmp/rollback-bot-redis --logfile /tmp/rollback-bot-redis/redis.log
  for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 \
    || die "Redis was started but does not answer on 127.0.0.1:6379 (see /tmp/rollback-bot-redis/redis.log)"
  echo "started Redis on 127.0.0.1:6379" >&2
fi

# PostgreSQL: the postgres-backup executor's tests dump and restore a real database.
if ! pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start >/dev/null 2>&1 || true
    for _ in $(seq 1 50); do pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1 && break; sleep 0.2; done
  fi
  pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1 \
    || die "PostgreSQL does not answer on 127.0.0.1:5432 and could not be started (apt-get install postgresql; trust auth for 127.0.0.1)"
  echo "started PostgreSQL on 127.0.0.1:5432" >&2
fi

# Prometheus and Alertmanager: the shipped alerting rules are checked by promtool, and the alert
# tests run against a real Prometheus and Alertmanager.
missing=()
for tool in promtool prometheus prometheus-alertmanager amtool; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  can_install || die "${missing[*]} not installed (apt-get install prometheus prometheus-alertmanager)"
  apt_install prometheus prometheus-alertmanager
fi

# Chromium: test/e2e/demo-browser.test.ts drives the browser demo (npm run demo -- --serve) in it.
if [ ! -x /usr/bin/chromium ]; then
  can_install || die "Chromium is not installed at /usr/bin/chromium (apt-get install chromium)"
  apt_install chromium
fi
