"""Alerts, webhooks and workload."""
