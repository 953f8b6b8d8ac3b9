"""TepSA: intake, triage and assignment for Indonesia's child hotline 1500-771."""

__version__ = "0.1.0"
