#!/usr/bin/env bash
# Installs everything the tests need (project, Chromium for the browser tests) and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

mkdir -p var
# Label Studio (own venv, first start migrates its database) comes up in the background
# while the project installs; the labeling loop's integration tests need it.
( bash scripts/labelstudio.sh start > var/labelstudio-start.log 2>&1 ) &
ls_pid=$!

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

if wait "$ls_pid"; then
    trap 'bash scripts/labelstudio.sh stop >/dev/null 2>&1 || true' EXIT
    # shellcheck disable=SC1090
    source "${CURATION_LABEL_STUDIO_STATE:-${TMPDIR:-/tmp}/curation-labelstudio-$(id -u)}/env"  # URL and API key
    echo "==> Label Studio: $CURATION_LABEL_STUDIO__URL"
else
    echo "warning: Label Studio did not start (var/labelstudio-start.log); its tests will skip" >&2
    tail -20 var/labelstudio-start.log >&2 || true
fi

set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: that is a failure" >&2
    exit 1
fi
exit "$status"
