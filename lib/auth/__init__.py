"""Who may do what: viewers and their rights, accounts and passwords, the audit log."""
