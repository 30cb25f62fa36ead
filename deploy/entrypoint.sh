#!/bin/sh
# Container entrypoint: one image, one role per container.
#   web      gunicorn (sync workers) with deploy/gunicorn.conf.py
#   worker   Celery worker (tasks carry their commune's schema explicitly)
#   beat     Celery beat: run exactly ONE beat per deployment, or schedules fire twice
#   migrate  manage.py migrate_platform: public schema, tenant_template, then every commune
# Anything else is run as given, e.g. `python manage.py create_commune …`.
set -e
cd /app

# Prometheus counters of the processes of this container (gunicorn workers, Celery children)
# are kept as files here and summed by /metrics; stale ones from a previous start are removed.
if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
  rm -rf "$PROMETHEUS_MULTIPROC_DIR"
  mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
fi

case "$1" in
  web)
    shift
    exec gunicorn --config /app/deploy/gunicorn.conf.py config.wsgi:application "$@"
    ;;
  worker)
    shift
    # Task metrics (runs, failures) on CELERY_METRICS_PORT (9808), for the internal network.
    export CELERY_METRICS_PORT="${CELERY_METRICS_PORT:-9808}"
    exec celery -A config worker --loglevel "${CELERY_LOG_LEVEL:-info}" \
      --concurrency "${CELERY_CONCURRENCY:-2}" "$@"
    ;;
  beat)
    shift
    unset PROMETHEUS_MULTIPROC_DIR  # beat runs no task: nothing to count
    # The schedule state is disposable (tasks are idempotent); keep it out of the read-only tree.
    exec celery -A config beat --loglevel "${CELERY_LOG_LEVEL:-info}" \
      --schedule "${CELERY_BEAT_SCHEDULE_FILE:-/tmp/celerybeat-schedule}" "$@"
    ;;
  migrate)
    shift
    exec python manage.py migrate_platform "$@"
    ;;
  *)
    exec "$@"
    ;;
esac
