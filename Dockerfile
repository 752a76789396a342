# Models Dashboard — production image: Python 3.13 slim, non-root, gunicorn + whitenoise.
#
#   docker build -t models-dashboard .
#   docker run -p 8000:8000 -e DJANGO_SECRET_KEY=... -e DJANGO_ALLOWED_HOSTS=dash.example.com \
#     -e OPENAI_API_KEY=... [-e DATABASE_URL=postgres://...] [-e CACHE_URL=redis://...] \
#     models-dashboard
#
# The task worker (catalogue refreshes, pruning) is the same image in its own container, with
# the same environment and the same database (the task queue is a table in it: PostgreSQL, or
# one SQLite file on a shared volume); the web container migrates, so start it first. Several
# workers may run at once. It serves no HTTP, so the web health check does not apply:
#
#   docker run --no-healthcheck -e DJANGO_SECRET_KEY=... -e DJANGO_ALLOWED_HOSTS=... \
#     -e OPENAI_API_KEY=... -e DATABASE_URL=postgres://... \
#     models-dashboard python manage.py db_worker
#
# Without a worker, the refreshes that pages queue are never run.
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=dashboard.settings \
    PORT=8000

RUN groupadd --system app && useradd --system --gid app --home-dir /app --shell /usr/sbin/nologin app
WORKDIR /app

# Dependencies first (a cached layer), straight from pyproject.toml.
COPY pyproject.toml README.md ./
COPY modelsclient/__init__.py modelsclient/_version.py modelsclient/
RUN mkdir -p dashboard && touch dashboard/__init__.py \
    && pip install ".[dashboard,postgres,redis]" && pip uninstall -y models-dashboard

COPY --chown=app:app . .
RUN pip install --no-deps . \
    && DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput -v0 \
    && mkdir -p /app/data && chown app:app /app/data

USER app
# Production hardening is on: DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS must be given.
# Behind a TLS-terminating proxy set DJANGO_TRUSTED_PROXY_HOPS=1 (client addresses for the
# login throttle). The default cache is a database table so that every gunicorn worker shares
# the model list and the login throttle; CACHE_URL=redis://... is faster.
ENV DJANGO_PRODUCTION=1 \
    DATABASE_URL=sqlite:////app/data/db.sqlite3 \
    CACHE_URL=dbcache://dashboard_cache
EXPOSE 8000
# /healthz is exempt from the HTTPS redirect; the Host header must be an allowed host.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request as u; host = os.environ['DJANGO_ALLOWED_HOSTS'].split(',')[0].strip().lstrip('.'); u.urlopen(u.Request(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz', headers={'Host': host}), timeout=4)" || exit 1

# The web server's start (the worker's is `python manage.py db_worker`, see the top).
# Migrations and the cache table on start, then the audit log's unsettled deletes are looked
# up (a failure there does not keep the server down), then gunicorn (GUNICORN_CMD_ARGS tunes).
CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py createcachetable && { python manage.py reconcile_audit || echo 'reconcile_audit failed; starting anyway' >&2; } && exec gunicorn dashboard.wsgi --bind 0.0.0.0:${PORT} --workers 2 --threads 4 --access-logfile -"]
