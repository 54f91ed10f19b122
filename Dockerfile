# syntax=docker/dockerfile:1.4
# liveproof's container image: a build stage on Debian bookworm that builds liveproof's Debian
# packages, a bookworm-slim runtime that installs them (and so only the libraries the server
# links), running as the packages' non-root user. The models are not in this
# repository: give the build the shared folder as a named context, e.g.
#   docker build --build-context shared=../shared -t liveproof .
# (compose does the same: deploy/compose.yaml). The steps are two scripts in deploy/container/,
# which tests/deploy/container_steps.sh runs in debootstrap roots (no Docker engine there).
FROM debian:bookworm AS build
COPY . /src
COPY --from=shared models /shared/models
RUN /src/deploy/container/build-stage.sh /src

FROM debian:bookworm-slim
COPY --from=build /out /out
COPY deploy/container/runtime-stage.sh deploy/container/healthcheck.sh /usr/local/lib/liveproof/
RUN /usr/local/lib/liveproof/runtime-stage.sh && rm -rf /out
USER liveproof
WORKDIR /var/lib/liveproof
VOLUME /var/lib/liveproof
EXPOSE 8001
# /readyz: models loaded and the store reachable.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["/usr/local/lib/liveproof/healthcheck.sh"]
# The packaged binary's default model and web folders are /usr/share/liveproof/{models,web}.
ENTRYPOINT ["/usr/bin/liveproof", "serve", "--host", "0.0.0.0", "--port", "8001", \
            "--set", "data_dir=/var/lib/liveproof"]
