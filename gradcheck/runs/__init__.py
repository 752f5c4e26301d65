"""Whole runs that compute: the Hypothesis-driven sweep (``sweep``), its counterexamples
(``repro``), the comparison matrix of ``gradcheck compare`` (``matrix``), the data behind
the report's pictures (``figures``), and a sweep published as a report folder (``publish``).
``runs/X`` computes what ``report/X`` writes."""
