"""Cohort analytics: gradebook -> tidy frames -> knowledge-weight scores, item statistics, charts."""
