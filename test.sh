#!/usr/bin/env bash
# Runs the test suite (Release). Installs Fashion-MNIST first when missing: the end-to-end test trains on it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
scripts/ensure-dataset
dotnet test tests/Nabla.Tests/Nabla.Tests.csproj -c Release --nologo "$@"
