"""HTTP routes: health, the JSON API and CDS Hooks."""
