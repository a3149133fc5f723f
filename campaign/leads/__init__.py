"""Leads: the interest form and its rules, consent, the lead's life from
pending to confirmed to withdrawn, erased or anonymised, who receives it,
the mails that tell them, receipts and reminders, and retention."""
