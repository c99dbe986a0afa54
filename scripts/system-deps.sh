#!/usr/bin/env bash
# System packages the tests and reports need (Debian): headless Chromium for browser tests,
# CJK fonts for screenshots and PDF reports, Pango for WeasyPrint, pdftotext (poppler-utils) to read
# rendered PDFs in tests, LibreOffice (headless, no GUI) to open the Word and Excel files the product
# writes, as an official's office suite would. Installs only what is missing,
# and only when run as root; otherwise it says what to install.
set -euo pipefail
need=()
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-writer-nogui libreoffice-calc-nogui)
# grep reads the whole list (no -q): with pipefail, `grep -q` stopping at the first match made fc-list die of
# SIGPIPE, the pipeline fail, and the fonts be installed again on every run
fc-list 2>/dev/null | grep -i "noto sans cjk" >/dev/null || need+=(fonts-noto-cjk)
ldconfig -p 2>/dev/null | grep "libpangoft2-1.0.so.0" >/dev/null || need+=(libpango-1.0-0 libpangoft2-1.0-0)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing system packages: ${need[*]} (install them with apt-get as root)" >&2
  exit 0
fi
echo "installing system packages: ${need[*]}"
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
