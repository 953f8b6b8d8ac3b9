"""Prometheus counters (served at /metrics). Labels are enums, never personal data."""

from prometheus_client import Counter

inbound_messages = Counter("tepsa_inbound_messages_total", "Inbound reporter messages stored", ["channel", "result"])
intakes_opened = Counter("tepsa_intakes_opened_total", "Intakes opened", ["channel", "urgency"])
offers_made = Counter("tepsa_offers_total", "Assignments offered", ["tier"])
outbox_results = Counter("tepsa_outbox_results_total", "Outbox delivery outcomes", ["channel", "result"])
