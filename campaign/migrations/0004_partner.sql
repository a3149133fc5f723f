-- Partner portal: accounts, server-side sessions, login throttling, notes, audit log.

CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    org            TEXT NOT NULL,                  -- organisation slug from content
    email          TEXT NOT NULL UNIQUE,           -- stored lower-case
    role           TEXT NOT NULL DEFAULT 'staff' CHECK (role IN ('staff', 'admin')),
    password_hash  TEXT NOT NULL,                  -- argon2
    active         INTEGER NOT NULL DEFAULT 1,
    created_at     TEXT NOT NULL,
    last_login_at  TEXT
);

-- Only a hash of the session id is stored: a copy of the database does not
-- let anyone take over a running session.
CREATE TABLE sessions (
    id_hash       TEXT PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_ts    REAL NOT NULL,
    last_seen_ts  REAL NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

-- Failed logins, keyed "addr:<ip>" or "acct:<email>" (also for unknown
-- e-mails, so a lock-out does not reveal whether an account exists).
CREATE TABLE login_failures (
    key    TEXT NOT NULL,
    at_ts  REAL NOT NULL
);
CREATE INDEX login_failures_key ON login_failures(key, at_ts);

CREATE TABLE lead_notes (
    id          INTEGER PRIMARY KEY,
    lead_id     INTEGER NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
    org         TEXT NOT NULL,
    user_id     INTEGER REFERENCES users(id) ON DELETE SET NULL,
    author      TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX lead_notes_lead ON lead_notes(lead_id, org);

-- Who changed what and when. Details never contain personal data of the
-- family (note texts stay in lead_notes), so the log can outlive an erasure.
CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    user_id   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    actor     TEXT NOT NULL,
    org       TEXT,
    lead_id   INTEGER REFERENCES leads(id) ON DELETE SET NULL,
    action    TEXT NOT NULL,
    detail    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_lead ON audit_log(lead_id, at);

-- Notes are personal data about the family: they go with the lead's data.
CREATE TRIGGER lead_notes_erase AFTER UPDATE OF status ON leads
WHEN NEW.status IN ('withdrawn', 'erased', 'anonymised')
BEGIN
    DELETE FROM lead_notes WHERE lead_id = NEW.id;
END;
