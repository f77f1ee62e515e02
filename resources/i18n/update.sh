#!/usr/bin/env bash
# Refresh the Chinese translation source from the UI code, then compile it.
#   bash resources/i18n/update.sh
# Edit resources/i18n/xiaozhibo_zh_CN.ts with Qt Linguist (pyside6-linguist) or any editor between
# the two steps; existing translations are kept by lupdate.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/venv.sh  # the pyside6-* tools of the project venv (scripts/install.sh)
PATH="$(dirname "$XZB_PY"):$PATH"
files=$(ls app/ui/*.py app/ui/*/*.py)
pyside6-lupdate -no-obsolete $files -ts resources/i18n/xiaozhibo_zh_CN.ts
pyside6-lrelease resources/i18n/xiaozhibo_zh_CN.ts -qm resources/i18n/xiaozhibo_zh_CN.qm
