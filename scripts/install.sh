#!/usr/bin/env bash
# Installs Curation Studio into .venv at the repo root (idempotent; safe to re-run).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv with $($PYTHON --version)"
    "$PYTHON" -m venv .venv
fi
echo "==> installing the project and its pinned models (torch 2.14.1, torchvision 0.29.1)"
# pip reads the machine's local wheel mirror; its 'Location ... is ignored' notes are noise.
.venv/bin/python -m pip install --quiet --upgrade "pip<27" 2>&1 | grep -v "is ignored" || true
# [ray]: the ray backend of `curation run` (ray[data] 2.60.0); its tests (marker `ray`) need it.
.venv/bin/python -m pip install --quiet -e ".[dev,ray]" 2>&1 | grep -v "is ignored" || true
.venv/bin/python -c "import curation, torch, timm, dlib, duckdb, streamlit, ray.data" \
    || { echo "install failed: see pip's messages above" >&2; exit 1; }
echo "==> installed: $(.venv/bin/curation --help >/dev/null && echo .venv/bin/curation)"
