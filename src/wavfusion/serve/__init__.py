"""`wavfusion serve`: a trained RUN behind an HTTP API and an offline web page.

Optional extra: `pip install wavfusion[serve]` (FastAPI, uvicorn, python-multipart).
See app.py for the API and its safety limits, docs/serve.md for its use.
"""
