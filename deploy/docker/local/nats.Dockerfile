# Local NATS with JetStream for deploy/compose.local.yaml (hosts with no registry): Debian's
# nats-server from the infra base image that deploy/docker/base-image.sh makes. Build context:
# deploy/docker/local. deploy/compose.yaml gives the arguments (JetStream, store, auth config).
ARG INFRA_IMAGE=swarmcast/debian-infra:bookworm
FROM ${INFRA_IMAGE} AS nats
# The JetStream store (a volume in compose), owned by the package's unprivileged `nats` user.
RUN install -d -o nats -g nats -m 0750 /data
USER nats
EXPOSE 4222 8222
ENTRYPOINT ["/usr/sbin/nats-server"]
CMD ["--jetstream", "--store_dir", "/data", "--http_port", "8222"]
