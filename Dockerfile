# The image of native lifecycle actions: `ephflow register --builtins native --builtin-image IMAGE`
# renders faasr-vm-start / -poll-* / -stop jobs that run `ephflow action run` in it.
#
#   docker build -t ghcr.io/OWNER/ephflow:0.1.0 .
#
# GitHub Actions runs container jobs with its own entrypoint (`tail -f /dev/null`) and runs
# steps with `sh`, so the runtime stage keeps a minimal Debian (sh, tail, CA certificates)
# rather than a scratch image. The job writes nothing to the workspace, so it runs as an
# unprivileged user.

FROM rust:1.94-slim-bookworm AS build
# aws-lc-rs (TLS) builds C code.
RUN apt-get update \
    && apt-get install -y --no-install-recommends cmake perl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin ephflow \
    && strip target/release/ephflow

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin ephflow
COPY --from=build /src/target/release/ephflow /usr/local/bin/ephflow
USER 10001
ENTRYPOINT ["ephflow"]
CMD ["--help"]
