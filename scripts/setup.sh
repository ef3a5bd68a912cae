#!/usr/bin/env bash
# One command to set notegen up on Debian (or Ubuntu) and render the worked case:
#   1. the system libraries WeasyPrint needs, libharfbuzz-subset0 included
#      (without it rendering is 3-5x slower and PDFs are not reproducible),
#      poppler-utils and qpdf, which the tests use to read PDFs, and
#      PostgreSQL, which the register's tests start on loopback, and SoftHSM2,
#      the PKCS#11 token the signing tests sign with, Chromium and its driver,
#      which the drafting desk's browser tests drive, and LibreOffice Writer,
#      which the Word tests convert DOCX with;
#   2. a virtual environment in .venv with notegen and its test extras;
#   3. the worked case rendered to note.pdf.
# Set NOTEGEN_SKIP_RENDER=1 to skip step 3.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig
              poppler-utils qpdf postgresql softhsm2
              chromium chromium-driver libreoffice-writer-nogui)

missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "Installing Debian packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

python="${PYTHON:-python3}"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "notegen needs Python 3.11 or newer ($python is older)" >&2; exit 1; }
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
# An editable install leaves notegen's own modules uncompiled; compile them
# now, as pip does for any other package, so that no command pays for it
# (where PYTHONDONTWRITEBYTECODE is set, every command would).
.venv/bin/python -m compileall -q notegen

if [ -z "${NOTEGEN_SKIP_RENDER:-}" ]; then
  .venv/bin/notegen render seeds/az-kyiv-2025/note.yaml -o note.pdf
fi
echo "Set up. Run the tests with: .venv/bin/python -m pytest"
