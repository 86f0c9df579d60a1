# Local S3-compatible server for deploy/compose.local.yaml (hosts with no registry; MinIO's image
# cannot be pulled): moto_server from the moto[server] wheels built on the host
# (deploy/docker/wheels.sh), on the Python base that deploy/docker/base-image.sh makes. The same
# image runs the one-shot bucket setup (s3_setup.py). Build context: deploy/docker.
# moto keeps objects in memory and accepts any access key: for local runs and tests only.
ARG PYTHON_IMAGE=swarmcast/debian-python:bookworm

FROM ${PYTHON_IMAGE} AS build
RUN python3 -m venv /opt/venv
COPY local/s3-requirements.lock /tmp/s3-requirements.lock
COPY wheels/ /tmp/wheels/
# From the host-built wheels only: nothing in the build reaches the network.
RUN /opt/venv/bin/pip install --no-compile --no-index --find-links /tmp/wheels \
      -r /tmp/s3-requirements.lock \
 && /opt/venv/bin/python -m compileall -q /opt/venv/lib

FROM ${PYTHON_IMAGE} AS s3
ARG APP_UID=10001
RUN groupadd --system --gid "${APP_UID}" s3 \
 && useradd --system --uid "${APP_UID}" --gid s3 --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin s3
COPY --from=build /opt/venv /opt/venv
COPY local/s3_setup.py /opt/s3/s3_setup.py
ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
USER ${APP_UID}:${APP_UID}
EXPOSE 9000
CMD ["moto_server", "-H", "0.0.0.0", "-p", "9000"]
