#!/usr/bin/env bash
# Debian packages the app needs. `runtime`: WeasyPrint's fast font subsetting. `test`: also
# Chromium for the browser tests and pdftotext-free PDF checks (pypdf does those). Installs only
# what is missing, so a machine that has everything pays nothing.
set -euo pipefail
# gettext: msgfmt, which `manage.py compilemessages` runs to build the translation catalogues.
want=(libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core gettext)
if [[ "${1:-runtime}" == "test" ]]; then
  # docker-compose (v1, Debian's) checks the compose file's meaning offline; no engine runs.
  want+=(chromium docker-compose)
fi
missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else
    echo "Missing Debian packages: ${missing[*]} (run as root or install them)" >&2; exit 1
  fi
else SUDO=""; fi
echo "Installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
