#!/usr/bin/env bash
# Idempotently install and start a local Docker engine.
#
# Our machines boot with a docker client but no engine, and there is no
# registry. The engine runs with --bridge=none (no docker0, no private-range
# addresses): every container uses host networking and binds 127.0.0.1.
# Safe to run repeatedly: it does nothing when `docker info` already works.
#
# Env: DOCKERD_LOG (default /var/log/creditgate-dockerd.log),
#      DOCKER_UP_TIMEOUT seconds to wait for the engine (default 60).
set -euo pipefail

log_file="${DOCKERD_LOG:-/var/log/creditgate-dockerd.log}"
timeout_s="${DOCKER_UP_TIMEOUT:-60}"

say() { echo "docker-up: $*" >&2; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if ! command -v dockerd >/dev/null 2>&1; then
	say "dockerd missing; installing docker.io and docker-compose via apt"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends docker.io docker-compose
fi

if docker info >/dev/null 2>&1; then
	say "engine already running"
	exit 0
fi

# alive PID: the process exists and is not a zombie. kill -0 is not enough:
# without a reaping init, a killed daemon can linger as a zombie.
alive() {
	local state
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
	state="$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]).*/\1/' "/proc/$1/stat" 2>/dev/null)" || return 1
	[ "$state" != "Z" ]
}

# remove_stale FILE: delete a pid file whose process is gone. A stale
# docker.pid makes dockerd refuse to start; a stale containerd.pid (dockerd
# was SIGKILLed, its containerd died with it) makes dockerd wait for a
# containerd that never answers, then fail after a timeout.
remove_stale() {
	local pid
	[ -f "$1" ] || return 0
	pid="$(cat "$1" 2>/dev/null || true)"
	if ! alive "$pid"; then
		say "removing stale $1 (pid '${pid}' not running)"
		as_root rm -f "$1"
	fi
}

pid_file=/var/run/docker.pid
remove_stale "$pid_file"
if [ -f "$pid_file" ]; then
	say "dockerd pid $(cat "$pid_file") is alive but not answering yet; waiting for it"
else
	remove_stale /var/run/docker/containerd/containerd.pid
	say "starting dockerd (log: $log_file)"
	as_root mkdir -p "$(dirname "$log_file")"
	# setsid + nohup: the engine must outlive this script and the CI step.
	as_root setsid nohup dockerd \
		--bridge=none --iptables=false --ip-forward=false --ip-masq=false \
		>>"$log_file" 2>&1 </dev/null &
	started_pid=$!
fi

deadline=$((SECONDS + timeout_s))
until docker info >/dev/null 2>&1; do
	if [ -n "${started_pid:-}" ] && ! alive "$started_pid"; then
		say "dockerd exited during startup; last lines of $log_file:"
		tail -n 40 "$log_file" >&2 || true
		exit 1
	fi
	if [ "$SECONDS" -ge "$deadline" ]; then
		say "engine not ready after ${timeout_s}s; last lines of $log_file:"
		tail -n 40 "$log_file" >&2 || true
		exit 1
	fi
	sleep 0.5
done
say "engine ready ($(docker info --format '{{.ServerVersion}}' 2>/dev/null || echo '?'))"
