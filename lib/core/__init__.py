"""The foundation: the store, settings, table definitions, periods, language catalogues and small text helpers. Imports nothing else from lib."""
