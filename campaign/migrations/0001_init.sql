-- Core schema shared by leads, delivery and the partner portal.
-- Timestamps are ISO 8601 UTC text ("2026-11-25T10:00:00+00:00") unless the
-- column name ends in _ts (unix seconds as REAL, used for leases and retries).

CREATE TABLE leads (
    id              INTEGER PRIMARY KEY,
    public_id       TEXT NOT NULL UNIQUE,          -- random; tokens carry this, never the id
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'confirmed', 'withdrawn', 'erased', 'anonymised')),
    created_at      TEXT NOT NULL,
    confirmed_at    TEXT,
    withdrawn_at    TEXT,
    erased_at       TEXT,
    language        TEXT NOT NULL DEFAULT 'de',
    -- personal fields: NULL after erase / anonymisation
    name            TEXT,
    email           TEXT,
    phone           TEXT,
    message         TEXT,
    -- family profile (not identifying on its own)
    adults          INTEGER,
    children        INTEGER,
    child_ages      TEXT NOT NULL DEFAULT '[]',    -- JSON list of age-group codes
    interests       TEXT NOT NULL DEFAULT '[]',    -- JSON list of interest codes
    timeframe       TEXT,
    municipalities  TEXT NOT NULL DEFAULT '[]',    -- JSON list of municipality slugs
    consents        TEXT NOT NULL DEFAULT '[]',    -- JSON list of consent group codes
    consent_version TEXT,
    consent_hash    TEXT,                          -- sha256 of the consent texts agreed to
    -- attribution
    utm_source      TEXT,
    utm_medium      TEXT,
    utm_campaign    TEXT,
    place_code      TEXT,
    quiz            TEXT,
    quiz_outcome    TEXT                           -- JSON: [{"slug":..,"score":..,"reasons":[..]}]
);
CREATE INDEX leads_status_created ON leads(status, created_at);

-- Anonymous proof of consent events; survives erasure (lead_id set NULL).
CREATE TABLE consent_events (
    id          INTEGER PRIMARY KEY,
    lead_id     INTEGER REFERENCES leads(id) ON DELETE SET NULL,
    grp         TEXT NOT NULL,
    version     TEXT NOT NULL,
    text_hash   TEXT NOT NULL,
    event       TEXT NOT NULL CHECK (event IN ('given', 'confirmed', 'withdrawn', 'erased')),
    at          TEXT NOT NULL
);
CREATE INDEX consent_events_lead ON consent_events(lead_id);

-- Who received a confirmed lead; the partner portal's per-organisation view.
CREATE TABLE lead_recipients (
    lead_id          INTEGER NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
    org              TEXT NOT NULL,                -- organisation slug from content
    reason           TEXT NOT NULL,                -- municipality | tourism | skilled_workers | fallback
    status           TEXT NOT NULL DEFAULT 'neu',  -- neu, kontaktiert, besuch_geplant, zugezogen, kein_interesse
    routed_at        TEXT NOT NULL,
    acknowledged_at  TEXT,
    reminded_at      TEXT,
    PRIMARY KEY (lead_id, org)
);
CREATE INDEX lead_recipients_org ON lead_recipients(org, routed_at);

-- Transactional outbox: every mail the service sends goes through here.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL,                 -- confirm, lead, reminder, agency_note, withdrawn, erased, password_reset, ...
    lead_id         INTEGER REFERENCES leads(id) ON DELETE SET NULL,
    org             TEXT,
    recipient       TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    message         BLOB NOT NULL,                 -- full RFC 5322 message bytes
    status          TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ts REAL NOT NULL DEFAULT 0,
    lease_owner     TEXT,
    lease_until_ts  REAL,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_ts);
CREATE INDEX outbox_lead ON outbox(lead_id);

-- Cookie-free funnel: daily aggregate counts, no visitor identifier.
CREATE TABLE funnel_counts (
    day           TEXT NOT NULL,
    quiz          TEXT NOT NULL,
    step          TEXT NOT NULL,                   -- started | answered:N | finished | lead_submitted | lead_confirmed
    utm_source    TEXT NOT NULL DEFAULT '',
    utm_medium    TEXT NOT NULL DEFAULT '',
    utm_campaign  TEXT NOT NULL DEFAULT '',
    count         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, quiz, step, utm_source, utm_medium, utm_campaign)
);
