# One image for every role of the `inventory-service` console script (ARCHITECTURE §2):
#   api · ingest · scheduler · run · db upgrade · token ... · audit verify
# docker-compose.yml picks the role with `command:`; see deploy/README.md.
FROM python:3.11-slim

LABEL org.opencontainers.image.title="inventory-service" \
      org.opencontainers.image.description="Clinic supplies, vaccine cold chain and equipment service" \
      org.opencontainers.image.licenses="Apache-2.0"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# An unprivileged user to run as, a virtualenv owned by root (the service cannot modify its own code),
# and the data directory, owned by the service user so a fresh named volume mounted there inherits it.
RUN groupadd --system --gid 10001 inventory \
 && useradd --system --uid 10001 --gid inventory --home-dir /nonexistent --no-create-home \
            --shell /usr/sbin/nologin inventory \
 && python -m venv /opt/venv \
 && install -d -o inventory -g inventory -m 0750 /data

WORKDIR /app

# Third-party dependencies first, in their own layer: rebuilt only when pyproject.toml changes.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep=chr(10))" \
      > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# The project itself, installed in editable mode from /app: `inventory_service.db.migrate` finds the
# Alembic scripts at <package>/../migrations, so /app/migrations must sit next to /app/inventory_service.
COPY alembic.ini ./
COPY migrations ./migrations
COPY devices ./devices
COPY firmware_sim ./firmware_sim
COPY inventory_service ./inventory_service
RUN pip install --no-deps -e . \
 && python -m compileall -q inventory_service devices firmware_sim migrations

# Container defaults (docker-compose.yml sets them again, explicitly): listen on every interface of the
# container, keep files in the /data volume.
ENV INVENTORY_DATA_DIR=/data \
    INVENTORY_BIND=0.0.0.0:8000

# Numeric, so that runtimes enforcing a non-root user (runAsNonRoot) can verify it.
USER 10001:10001
EXPOSE 8000

# No HEALTHCHECK here: only the `api` role serves HTTP; docker-compose.yml gives that service its check.
ENTRYPOINT ["inventory-service"]
CMD ["api"]
