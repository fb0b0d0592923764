#!/usr/bin/env bash
# Install (Debian packages) what `make screenshots` needs to picture the ledger:
# LibreOffice Calc without a screen (renders the XLSX as the office prints it) and
# poppler's pdftoppm (its first page as a PNG). Idempotent.
set -euo pipefail

need_packages=()
command -v soffice >/dev/null 2>&1 || need_packages+=(libreoffice-calc-nogui)
command -v pdftoppm >/dev/null 2>&1 || need_packages+=(poppler-utils)
fc-list :lang=zh 2>/dev/null | grep -q . || need_packages+=(fonts-wqy-microhei)
source "$(dirname "$0")/debian-packages.sh"
install_packages "${need_packages[@]}"
