"""The audit log of consultations: a pure record builder and a SQLAlchemy store."""

from workup.audit.record import consultation_record, feedback_record

__all__ = ["consultation_record", "feedback_record"]
