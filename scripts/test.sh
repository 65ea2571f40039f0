#!/usr/bin/env bash
# Installs everything the tests need (project, Chromium for the browser tests) and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install.sh

if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "==> installing Debian chromium for the browser tests"
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
            || echo "warning: chromium could not be installed; browser tests will be skipped" >&2
    else
        echo "warning: not root, cannot apt-get install chromium; browser tests will be skipped" >&2
    fi
fi

# The labelled sample photo sets live beside the repo (never copied into it).
if [ -z "${CURATION_SAMPLES:-}" ] && [ -d ../shared/samples ]; then
    export CURATION_SAMPLES="$(cd ../shared/samples && pwd)"
fi
echo "==> samples: ${CURATION_SAMPLES:-none (sample-based tests will skip)}"

set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: that is a failure" >&2
    exit 1
fi
exit "$status"
