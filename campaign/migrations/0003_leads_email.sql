-- "Send me a new link" looks a lead up by its e-mail address, case-insensitively.
-- Erased and anonymised leads have email NULL, so they drop out of the index.
CREATE INDEX leads_email ON leads(lower(email)) WHERE email IS NOT NULL;
