"""Getting messages out: mails built with the standard library, the
transactional outbox, the worker that sends it, and SMTP or file transports.

Nothing here knows what a lead is: the lead package decides who gets which
mail and queues it here in its own transaction.
"""
