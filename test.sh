#!/usr/bin/env bash
# Runs the test suite (Release). Installs Fashion-MNIST first when missing (the end-to-end tests train on it), and
# Debian's Chromium with its chromedriver (the dashboard's browser test) and MPICH (the data-parallel tests).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
scripts/ensure-dataset
scripts/ensure-browser
scripts/ensure-mpich
dotnet test tests/Nabla.Tests/Nabla.Tests.csproj -c Release --nologo "$@"
