# STAND-IN for the compose file's postgres image, for CI only: Debian 13's
# PostgreSQL 17 and a small entrypoint that does what the official one does
# for this compose file (first start: initdb with POSTGRES_USER and
# POSTGRES_PASSWORD, create POSTGRES_DB; then run the server). It runs as the
# "postgres" user directly (the official entrypoint starts as root and drops).
# hadolint ignore=DL3007
FROM localhost/workshop-standin-base:latest
ENV PATH=/usr/lib/postgresql/17/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
# hadolint ignore=DL3008
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-17 >/dev/null \
    && rm -rf /var/lib/apt/lists/* \
    && install -d -o postgres -g postgres -m 700 "$PGDATA"
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
# hadolint ignore=DL3066
USER postgres
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
