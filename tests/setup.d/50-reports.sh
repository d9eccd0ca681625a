# Reports: headless Chromium renders the HTML report in tests/test_reports_browser.py (and makes
# docs/report.png); fonts so the screenshot has glyphs. matplotlib comes with the package itself.
# Sourced by scripts/test; idempotent and quick when chromium is already installed.
if ! command -v chromium >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
