#!/usr/bin/env bash
# Installs Curation Studio, builds and curates the built-in demo library, starts the dashboard.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install.sh
DEMO=${CURATION_DEMO_LIBRARY:-var/demo-library}
if [ ! -d "$DEMO" ]; then
    .venv/bin/curation demo-library "$DEMO"
fi
.venv/bin/curation run "$DEMO"
exec .venv/bin/streamlit run dashboard/app.py "$@"
