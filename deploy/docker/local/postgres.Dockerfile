# Local PostgreSQL for deploy/compose.local.yaml (hosts with no registry): Debian's PostgreSQL 15
# from the infra base image that deploy/docker/base-image.sh makes. Build context: deploy/docker/local.
# Production uses the upstream postgres image (deploy/compose.yaml) or a managed database.
ARG INFRA_IMAGE=swarmcast/debian-infra:bookworm
FROM ${INFRA_IMAGE} AS postgres
# The package's default cluster is not used: the entrypoint makes one in PGDATA (the volume).
RUN (pg_dropcluster --stop 15 main 2>/dev/null || true) \
 && install -d -o postgres -g postgres -m 0700 /var/lib/postgresql/data \
 && install -d -o postgres -g postgres -m 2775 /var/run/postgresql
COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint
# The server's own binaries first (pg_isready for the health check, initdb, postgres).
ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PGDATA=/var/lib/postgresql/data
USER postgres
EXPOSE 5432
# Fast shutdown: open transactions are rolled back, the cluster is left consistent.
STOPSIGNAL SIGINT
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint"]
CMD ["postgres", "-c", "listen_addresses=*"]
