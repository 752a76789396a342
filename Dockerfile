# Models Dashboard — production image: Python 3.13 slim, non-root, gunicorn + whitenoise.
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=dashboard.settings \
    PORT=8000

RUN groupadd --system app && useradd --system --gid app --home-dir /app --shell /usr/sbin/nologin app
WORKDIR /app

# Dependencies first (cached layer), straight from pyproject.toml.
COPY pyproject.toml README.md ./
COPY modelsclient/__init__.py modelsclient/_version.py modelsclient/
RUN mkdir -p dashboard && touch dashboard/__init__.py \
    && pip install ".[dashboard,postgres,redis]" && pip uninstall -y models-dashboard

COPY --chown=app:app . .
RUN pip install --no-deps . \
    && DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput -v0 \
    && mkdir -p /app/data && chown app:app /app/data

USER app
ENV DATABASE_URL=sqlite:////app/data/db.sqlite3
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz', timeout=4)" || exit 1

# Migrations on start, then gunicorn (2 workers x 4 threads; tune with GUNICORN_CMD_ARGS).
CMD ["sh", "-c", "python manage.py migrate --noinput && exec gunicorn dashboard.wsgi --bind 0.0.0.0:${PORT} --workers 2 --threads 4 --access-logfile -"]
