# TepSA service image. Build: docker build -t tepsa .
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
COPY triage ./triage
COPY channels ./channels
COPY alembic ./alembic
RUN pip install --no-cache-dir build && python -m build --wheel --outdir /dist

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    TEPSA_DATABASE_URL=sqlite:////data/tepsa.db
RUN useradd --system --uid 10001 --home-dir /data tepsa && mkdir -p /data && chown tepsa /data
COPY --from=build /dist/*.whl /tmp/
RUN pip install --no-cache-dir /tmp/*.whl && rm /tmp/*.whl
USER tepsa
WORKDIR /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz').status != 200)"
CMD ["tepsa", "serve", "--host", "0.0.0.0", "--port", "8000", "--forwarded-allow-ips", "*"]
