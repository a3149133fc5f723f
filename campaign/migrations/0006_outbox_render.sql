-- Mails rendered by the worker instead of in the request: a row may carry a
-- JSON recipe (template, language, the lead's public id) and an empty
-- ``message``; the worker builds the message right before sending and stores
-- the bytes back in ``message`` (and clears ``render``), so later attempts
-- send exactly the same bytes. The recipe holds no personal data.
ALTER TABLE outbox ADD COLUMN render TEXT;
