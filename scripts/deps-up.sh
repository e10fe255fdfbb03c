#!/usr/bin/env bash
# Idempotently install what the cluster target and the power-loss checks
# need and a fresh Debian machine lacks: PostgreSQL 15's binaries (the
# cluster target and the pgstore tests initdb their own throwaway server;
# the packaged service is not used) and FUSE (chaos/lazyfs; as root go-fuse
# mounts /dev/fuse directly, fusermount3 is the fallback). Does nothing when
# both are present.
set -euo pipefail

say() { echo "deps-up: $*" >&2; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

updated=""
install() {
	if [ -z "$updated" ]; then
		as_root apt-get update -qq
		updated=1
	fi
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" </dev/null
}

if [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then
	say "PostgreSQL 15 missing; installing postgresql-15 via apt"
	install postgresql-15 || install postgresql
fi
[ -x /usr/lib/postgresql/15/bin/initdb ] || { say "no /usr/lib/postgresql/15/bin/initdb after the install"; exit 1; }

if ! command -v fusermount3 >/dev/null 2>&1 && ! command -v fusermount >/dev/null 2>&1; then
	say "fusermount missing; installing fuse3 via apt"
	install fuse3 || say "WARNING: fuse3 not installed; the power-loss and full-disk checks may skip"
fi
[ -e /dev/fuse ] || say "WARNING: no /dev/fuse; the power-loss and full-disk checks will skip"
say "PostgreSQL 15 and FUSE ready"
