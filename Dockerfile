# creditd in a FROM scratch image: our build machines have no registry, so no
# base image can be pulled. The static binary is built beforehand
# by scripts/build-images.sh (`make image`): CGO_ENABLED=0 go build -o build/creditd;
# .dockerignore keeps the build context down to build/.
#
#   docker build -t creditgate/creditd:dev .
#
# build/data is an empty directory made by the build step: scratch has no shell
# to mkdir, and copying it with --chown gives the non-root user a writable /data
# (a fresh named volume inherits this ownership).
FROM scratch
# Lets the harness prune superseded (dangling) builds of our images only.
LABEL org.creditgate.image=creditd
COPY --chown=65532:65532 build/data /data
COPY build/creditd /creditd
USER 65532:65532
# Loopback by default: containers run with host networking on our machines.
# Bridge-network users set CREDITD_ADDR=0.0.0.0:8000 and publish the port; without
# CREDITD_TOKENS creditd then refuses to start unless CREDITD_INSECURE_NO_AUTH=true.
ENV CREDITD_ADDR=127.0.0.1:8000 CREDITD_JOURNAL=/data/credits.jsonl
VOLUME /data
EXPOSE 8000
# The binary probes its own /api/health (scratch has no curl); docker ps and
# compose show the status. Restart decisions stay with compose/the harness.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
	CMD ["/creditd", "-healthcheck"]
ENTRYPOINT ["/creditd"]
