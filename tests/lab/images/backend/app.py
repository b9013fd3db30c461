"""Lab backend: health-checks the database through HAProxy, like the real backend's /health."""
import os

import psycopg2
from fastapi import FastAPI
from fastapi.responses import JSONResponse

app = FastAPI(title="twincigo lab backend")


@app.get("/health")
def health():
    try:
        with psycopg2.connect(os.environ["DATABASE_URL"], connect_timeout=3) as conn:
            with conn.cursor() as cur:
                cur.execute("select pg_is_in_recovery()")
                in_recovery = cur.fetchone()[0]
        return {"status": "ok", "database": "primary" if not in_recovery else "replica"}
    except Exception as exc:  # any database failure makes the backend unhealthy
        return JSONResponse(status_code=503, content={"status": "unhealthy", "error": type(exc).__name__})
