"""Data out and outcomes: exports (CSV, FHIR R4), import, follow-ups, program figures."""
