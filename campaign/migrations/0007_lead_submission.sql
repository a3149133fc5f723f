-- One stored lead per submission: a retried or double-clicked POST of the same
-- filled-in form (the same bytes, so the same signed start time) finds the
-- lead it already made instead of making a second. ``submission_key`` is a
-- hash of the request body; it is cleared with the personal fields on erasure
-- and anonymisation. NULLs never collide in a UNIQUE index.
ALTER TABLE leads ADD COLUMN submission_key TEXT;
CREATE UNIQUE INDEX leads_submission ON leads(submission_key);
