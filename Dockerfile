# syntax=docker/dockerfile:1
# Tessera: release build, then a small runtime image that runs as a non-root user.
# The build step is the one CI runs (scripts/smoke.sh): cargo build --release --locked -p bootstrap.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p bootstrap

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/tessera --create-home tessera
COPY --from=build /src/target/release/tessera /usr/local/bin/tessera
USER tessera
WORKDIR /var/lib/tessera
# Inside the container Tessera must listen on all interfaces for the published port to reach it.
ENV TESSERA_LISTEN=0.0.0.0:8080 \
    TESSERA_LOG_FORMAT=json \
    TESSERA_SHUTDOWN_DRAIN_MS=5000
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s \
    CMD curl -fsS http://127.0.0.1:8080/health/live || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["tessera"]
CMD ["serve"]
