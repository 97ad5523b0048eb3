# r1serve's container image (docs/DEPLOY.md, "Container image").
#
#   podman build -t r1serve .                          # compile in the image (about 10 min on 2 cores)
#   podman build -t r1serve --build-arg BINARY_FROM=build/release/apps/r1serve/r1serve .
#                                                      # package the binary built on this Debian 12 host
#   podman build -t r1serve-lambda --target lambda .   # AWS Lambda container image
#
# BASE is any Debian 12 image; where no registry is reachable, scripts/container/base-image.sh makes one with
# debootstrap (localhost/debian:12-bootstrap). Targets: `runtime` (the default, last stage) and `lambda`.
ARG BASE=debian:12-slim

# ---- build: the r1serve target only (no tests, no benchmarks); npm installs the chat page's pinned packages ----
FROM ${BASE} AS build
# A path in the build context to a binary built on a Debian 12 host; empty = compile here.
ARG BINARY_FROM=
COPY . /src
RUN set -eu; mkdir -p /out; \
    if [ -n "$BINARY_FROM" ]; then \
      cp "/src/$BINARY_FROM" /out/r1serve; \
    else \
      apt-get update -qq; \
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        g++ cmake ninja-build pkg-config nlohmann-json3-dev libfmt-dev libspdlog-dev libcli11-dev \
        libpcre2-dev libutf8proc-dev libboost-dev libboost-system-dev libcurl4-openssl-dev libssl-dev \
        libxxhash-dev libnghttp2-dev npm; \
      cmake -S /src -B /tmp/build -G Ninja -DCMAKE_BUILD_TYPE=Release -DR1_BUILD_TESTS=OFF \
        -DR1_BUILD_BENCH=OFF; \
      cmake --build /tmp/build --target r1serve; \
      cp /tmp/build/apps/r1serve/r1serve /out/r1serve; \
    fi; \
    strip /out/r1serve 2>/dev/null || true

# ---- base of the runtime images: the shared libraries r1serve links (ldd → packages), a non-root user ----
# curl (a few hundred KB over the libcurl r1serve links anyway): podman kube play runs a pod's httpGet liveness
# probe as `curl -f` inside the container.
FROM ${BASE} AS runtime-base
RUN set -eu; apt-get update -qq; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libstdc++6 libcurl4 libssl3 libnghttp2-14 libxxhash0 libspdlog1.10 libfmt9 libpcre2-8-0 libutf8proc2 \
      ca-certificates curl; \
    apt-get clean; rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log; \
    useradd --system --uid 10001 --gid 0 --home-dir /data --no-create-home --shell /usr/sbin/nologin r1serve; \
    mkdir -p /data /models; chown 10001:0 /data; chmod 0775 /data
# Everything r1serve writes goes under /data (a volume; mount a persistent one as the model cache), so the
# root filesystem can be read-only. Models can also be mounted read-only anywhere (e.g. /models/NAME).
ENV HOME=/data \
    HF_HOME=/data/huggingface \
    R1SERVE_HOME=/data/r1serve \
    R1SERVE_HOST=0.0.0.0 \
    PORT=8080
VOLUME ["/data"]
WORKDIR /data

# ---- lambda: the AWS Lambda Runtime API loop (r1serve lambda) as the entry point ----
FROM runtime-base AS lambda
COPY --from=build /out/r1serve /usr/local/bin/r1serve
# Lambda mounts no volume: /tmp is its only writable folder.
ENV HOME=/tmp HF_HOME=/tmp/huggingface R1SERVE_HOME=/tmp/r1serve
USER 10001
ENTRYPOINT ["/usr/local/bin/r1serve", "lambda"]

# ---- runtime (default): serve HF_MODEL_ID on 0.0.0.0:$PORT; `serve` is SageMaker's entry point ----
FROM runtime-base AS runtime
COPY --from=build /out/r1serve /usr/local/bin/r1serve
COPY scripts/container/entrypoint.sh /usr/local/bin/r1serve-entrypoint
USER 10001
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/r1serve-entrypoint"]
CMD ["serve"]
