# csplatform production image: gunicorn serves the app, whitenoise the static files.
# The same image runs the web server, the Celery worker and Celery beat (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VAR_DIR=/app/var

WORKDIR /app
RUN useradd --create-home --uid 1000 csplatform

# Dependencies first, so a code change does not reinstall them.
COPY requirements.lock pyproject.toml ./
RUN pip install -r requirements.lock

COPY . .

# Static files are collected into the image. The settings need a key to import; this one exists
# only during the build and never serves a request (production passes SECRET_KEY at run time).
RUN DEBUG=false \
    SECRET_KEY=build-time-placeholder-used-only-to-collect-static-files-000000 \
    ALLOWED_HOSTS=build.invalid \
    DATABASE_URL=postgres://build@build.invalid:5432/unused \
    VAR_DIR=/tmp/build-var \
    python manage.py collectstatic --noinput --verbosity 0 \
    && rm -rf /tmp/build-var \
    && mkdir -p /app/var \
    && chown -R csplatform /app/var

USER csplatform
EXPOSE 8000

# Workers, threads, keep-alive and timeouts: gunicorn.conf.py (WEB_CONCURRENCY sets the processes).
CMD ["gunicorn", "--config", "gunicorn.conf.py", "csplatform.wsgi"]
