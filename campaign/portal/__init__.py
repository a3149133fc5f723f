"""The partner portal's domain: staff accounts and sessions, the leads an
organisation may see and its work on them, figures and the CSV export."""
