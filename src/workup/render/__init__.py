"""Pure renderers: Recommendation → JSON document, text, Markdown, CDS Hooks cards."""
