"""The workspace: accounts, the edited member register, proposals and the audit trail."""
