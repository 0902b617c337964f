# pixfront's container image: `docker build -t pixfront .` (or `podman build --format docker`).
# The build stage compiles the release binary and collects what it needs at run time
# (scripts/container/rootfs: the binary, its shared libraries, CA certificates, a non-root user,
# the samples); the image itself is FROM scratch: no shell, about 65 MB (the binary is 60).
# docs/operations.md shows how to run it (read-only root filesystem, probes, sizing). On a
# machine without registry access, scripts/container/build makes the same runtime image from a
# binary built there.
FROM rust:1-bookworm AS build
# nasm: rav1d's x86_64 assembly; cmake: libjpeg-turbo (mozjpeg) and libwebp.
RUN apt-get update \
 && apt-get install -y --no-install-recommends nasm cmake ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin pixfront \
 && scripts/container/rootfs target/release/pixfront /out/rootfs

# The runtime image, FROM scratch over files scripts/container/rootfs prepared. The Dockerfile's
# last stage is this file with `COPY --from=build` (a test keeps them the same).
FROM scratch
COPY --from=build /out/rootfs/ /
USER 65532:65532
WORKDIR /
ENV PIXFRONT_LISTEN=0.0.0.0:8080 LOG_FORMAT=json
EXPOSE 8080
# No shell or curl in the image: the binary probes its own /?health.
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 CMD ["/pixfront", "health"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/pixfront"]
CMD ["serve"]
