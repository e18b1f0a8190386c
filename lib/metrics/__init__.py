"""What the numbers mean: the KPI catalogue and engine, business hours, schemes, scoring and sentiment."""
