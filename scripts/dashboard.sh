#!/usr/bin/env bash
# Installs Curation Studio, builds and curates the built-in demo library, starts the dashboard.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install.sh
DEMO=${CURATION_DEMO_LIBRARY:-var/demo-library}
# The demo library is small (about 90 photos): let its albums be small too.
export CURATION_ALBUMS__MIN_PHOTOS=${CURATION_ALBUMS__MIN_PHOTOS:-4}
export CURATION_ALBUMS__MAX_PHOTOS=${CURATION_ALBUMS__MAX_PHOTOS:-24}
if [ ! -d "$DEMO" ]; then
    .venv/bin/curation demo-library "$DEMO"
fi
.venv/bin/curation run "$DEMO"
# `streamlit run dashboard/app.py`, plus warming the first page's imports while the browser loads.
exec .venv/bin/python -m dashboard "$@"
