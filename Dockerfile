# Build stage: compile the release binary.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
COPY benches ./benches
COPY app-manifest.yml ./
RUN cargo build --release --locked --bin upkeep \
 && cp "$(rustup which cargo)" /src/cargo

# Runtime stage: a small Debian with CA certificates, git and the build stage's cargo (dependency
# updates resolve lockfiles with `cargo update` in an isolated temp dir; no repository code is
# ever built, so no rustc is needed).
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates git \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin upkeep \
 && mkdir -p /data && chown upkeep:upkeep /data
COPY --from=build /src/target/release/upkeep /usr/local/bin/upkeep
# The toolchain's own cargo, not the rustup proxy (which would need a toolchain directory).
COPY --from=build /src/cargo /usr/local/bin/cargo
USER upkeep
WORKDIR /data
ENV UPKEEP_DATA_DIR=/data \
    UPKEEP_DATABASE_URL=sqlite:///data/upkeep.db \
    UPKEEP_LISTEN=0.0.0.0:8080 \
    UPKEEP_LOG_FORMAT=json
EXPOSE 8080
VOLUME ["/data"]
ENTRYPOINT ["/usr/local/bin/upkeep"]
CMD ["serve"]
