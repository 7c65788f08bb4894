# STAND-IN for the compose file's redis image, for CI only: Debian 13's
# redis-server (not Redis 7.4 from the official image), run directly as the
# "redis" user (the official entrypoint starts as root and drops to "redis").
FROM localhost/workshop-standin-base:latest
USER redis
CMD ["redis-server"]
