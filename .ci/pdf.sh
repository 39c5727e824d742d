# Sourced by .ci/run: the system libraries WeasyPrint needs for the printable report
# (bot/pdf.py; docs/deploy.md), installed from Debian when missing. Fonts come with them
# (fonts-dejavu-core), so the PDF tests lay text out the same on every machine.

ensure_pdf_libraries() {
    if ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so.0' \
            && fc-list 2>/dev/null | grep -qi dejavu; then
        return 0
    fi
    echo "ci: installing WeasyPrint's system libraries (Debian packages)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libfontconfig1 fonts-dejavu-core >/dev/null
}
