# STAND-IN for the compose file's redis image, for CI only: Debian 13's
# redis-server (not the official image's Redis build), run directly as the
# "redis" user (the official entrypoint starts as root and drops to "redis").
# hadolint ignore=DL3007
FROM localhost/workshop-standin-base:latest
# hadolint ignore=DL3008
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null \
    && rm -rf /var/lib/apt/lists/* \
    && install -d -o redis -g redis /data
# hadolint ignore=DL3066
USER redis
WORKDIR /data
CMD ["redis-server"]
