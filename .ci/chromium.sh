# Sourced by .ci/run: Debian's chromium for the browser tests (tests/browser; docs/web.md).
# Installed from the Debian package only if missing: Playwright cannot download a browser
# here, and drives this one. With CI=true the browser tests fail without it.

ensure_chromium() {
    if ! command -v chromium >/dev/null 2>&1; then
        echo "ci: installing chromium (Debian package)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    fi
    echo "ci: $(chromium --version 2>/dev/null | head -n 1)"
}
