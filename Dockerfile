# syntax=docker/dockerfile:1
#
# promobot as a container: a static binary on distroless, run as a non-root
# user, with no shell, package manager or libc in the image.
#
#   docker build --build-arg VERSION="$(git describe --tags --always --dirty)" -t promobot .
#
# The binary is built with the same flags as `make build`, so for the same Go
# version and VERSION the binary in the image is byte-identical to
# bin/promobot (cmd/promobot/build_test.go holds both files to that).
# Base images are pinned by tag; pin them by digest too (name:tag@sha256:…)
# in a registry you control if your supply-chain policy asks for it.

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Never switch toolchains behind our back, never rewrite go.mod.
ENV CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=readonly
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY cmd/ cmd/
COPY internal/ internal/
COPY schemas/ schemas/
# VERSION is stamped into the binary (promobot --version); the build context
# has no .git, so it comes from the caller.
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -buildvcs=false \
      -ldflags "-s -w -buildid= -X main.version=${VERSION}" \
      -o /out/promobot ./cmd/promobot
# The default --cache-dir, owned by the runtime user. Mount a volume here
# (an emptyDir in Kubernetes) when the root file system is read-only.
RUN mkdir -p /out/cache

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
LABEL org.opencontainers.image.title="promobot" \
      org.opencontainers.image.description="GitOps promotion of ML models with evidence: the promobot GitHub App and CLI" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/promobot /promobot
COPY --from=build --chown=65532:65532 /out/cache /var/cache/promobot
ENV PROMOBOT_CACHE_DIR=/var/cache/promobot
# distroless "nonroot" is uid/gid 65532; numeric so that runAsNonRoot can
# verify it without reading /etc/passwd.
USER 65532:65532
EXPOSE 8080
# The image has no shell and no curl, so there is no Docker HEALTHCHECK.
# Orchestrators probe over HTTP instead: liveness GET /healthz, readiness
# GET /readyz (503 while draining), both on port 8080. See docs/deploy.md.
HEALTHCHECK NONE
ENTRYPOINT ["/promobot"]
CMD ["serve"]
