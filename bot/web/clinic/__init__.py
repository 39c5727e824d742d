"""The clinician's web workspace under /clinic/ (docs/clinicians.md)."""
