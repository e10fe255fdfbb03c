#!/usr/bin/env bash
# Build the static binaries and the two scratch images with their fixed tags:
#   creditgate/creditd:dev     (Dockerfile)
#   creditgate/karma-stub:dev  (Dockerfile.karma)
# The images copy prebuilt binaries from build/ (no registry, so no builder
# image can be pulled); .dockerignore sends only those files.
#
# Usage: scripts/build-images.sh [creditd|karma-stub]...   (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(creditd karma-stub)

# Scratch has no mkdir: the Dockerfile copies this empty directory to /data.
mkdir -p build/data
for t in "${targets[@]}"; do
	case "$t" in
	creditd) dockerfile=Dockerfile ;;
	karma-stub) dockerfile=Dockerfile.karma ;;
	*) echo "build-images: unknown image '$t' (want creditd or karma-stub)" >&2; exit 2 ;;
	esac
	# -trimpath makes the binary reproducible, so an unchanged source tree
	# hits Docker's layer cache instead of producing a new image.
	CGO_ENABLED=0 go build -trimpath -o "build/$t" "./cmd/$t"
	# Plain `docker build`: the CLI here has no buildx, and DOCKER_BUILDKIT=1
	# fails; the legacy builder's deprecation notice is expected.
	docker build -q -f "$dockerfile" -t "creditgate/$t:dev" . 2> >(grep -v -e DEPRECATED -e 'legacy builder' -e buildx -e '^ *$' >&2 || true)
	echo "build-images: creditgate/$t:dev"
done
