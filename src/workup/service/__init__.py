"""The HTTP service: JSON API and CDS Hooks 2.0 (``create_app`` in :mod:`workup.service.app`)."""
