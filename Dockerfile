# qlite's container image: a static binary on an empty base image, laid out
# as qdrant/qdrant is (storage in /qdrant/storage, REST on 6333, gRPC on
# 6334, /qdrant/config/production.yaml, the same QDRANT__ environment
# variables), so that it runs where that image ran. Build with:
#
#   docker build -t qlite .
#   docker run -p 6333:6333 -p 6334:6334 -v qlite-storage:/qdrant/storage qlite
#
# Build arguments: GO_IMAGE (the build stage's Go toolchain image), BUILD_DATE
# (RFC 3339, default: now), BUILDVCS (auto; false when building from a
# checkout without its .git directory, such as a linked git worktree),
# GOPROXY. See docs/deployment.md.

ARG GO_IMAGE=golang:1.26-bookworm

FROM ${GO_IMAGE} AS build
ARG GOPROXY=https://proxy.golang.org,direct
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG BUILD_DATE
ARG BUILDVCS=auto
ARG TARGETOS=linux
ARG TARGETARCH
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    date="${BUILD_DATE:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}" && \
    CGO_ENABLED=0 GOOS="$TARGETOS" GOARCH="$TARGETARCH" go build -trimpath -buildvcs="$BUILDVCS" \
      -ldflags "-s -w -X github.com/qlite/qlite/telemetry.buildDate=$date" \
      -o /out/root/qdrant/qlite ./cmd/qlite
# The runtime image's files besides the binary: a user and group to run as
# (uid and gid 1000, as numbers so that Kubernetes' runAsNonRoot can check
# them), the CA certificates (OTLP export and snapshot downloads over
# https), an empty /tmp, and the storage directory the user owns.
RUN mkdir -p /out/root/etc/ssl/certs /out/root/tmp /out/storage && \
    printf 'root:x:0:0:root:/root:/sbin/nologin\nqlite:x:1000:1000:qlite:/qdrant:/sbin/nologin\n' > /out/root/etc/passwd && \
    printf 'root:x:0:\nqlite:x:1000:\n' > /out/root/etc/group && \
    cp /etc/ssl/certs/ca-certificates.crt /out/root/etc/ssl/certs/ && \
    chmod 1777 /out/root/tmp

FROM scratch
COPY --from=build /out/root/ /
COPY --from=build --chown=1000:1000 /out/storage/ /qdrant/storage/
LABEL org.opencontainers.image.title="qlite" \
      org.opencontainers.image.description="An embedded vector database that speaks Qdrant's REST and gRPC APIs" \
      org.opencontainers.image.licenses="Apache-2.0"
USER 1000:1000
WORKDIR /qdrant
# As in qdrant/qdrant: a config file mounted at /qdrant/config/production.yaml
# is read (docs/configuration.md).
ENV QDRANT__STORAGE__STORAGE_PATH=/qdrant/storage RUN_MODE=production
VOLUME ["/qdrant/storage"]
EXPOSE 6333 6334
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["/qdrant/qlite", "healthcheck"]
ENTRYPOINT ["/qdrant/qlite"]
CMD ["serve"]
