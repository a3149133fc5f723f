-- Print campaigns: tracked places (holiday flats, tourist offices) with a
-- short code /q/{code}, and their scans as daily aggregate counters.
-- Nothing here identifies a visitor: no cookie, no address, no user agent.

CREATE TABLE places (
    code          TEXT PRIMARY KEY,                -- short, lowercase, used in /q/{code}
    label         TEXT NOT NULL,                   -- "Ferienwohnung am See, Winterberg"
    org           TEXT NOT NULL,                   -- owning organisation slug from content
    target_kind   TEXT NOT NULL
                  CHECK (target_kind IN ('landing', 'quiz', 'municipality', 'lead_form')),
    target_slug   TEXT NOT NULL DEFAULT '',        -- quiz or municipality slug, '' otherwise
    utm_medium    TEXT NOT NULL DEFAULT 'qr' CHECK (utm_medium IN ('qr', 'print')),
    utm_campaign  TEXT NOT NULL,
    pitch         TEXT NOT NULL DEFAULT '',        -- one line printed on the A6 card
    created_at    TEXT NOT NULL,
    created_by    TEXT
);
CREATE INDEX places_org ON places(org, created_at);

CREATE TABLE place_scans (
    place_code  TEXT NOT NULL REFERENCES places(code) ON DELETE CASCADE,
    day         TEXT NOT NULL,
    count       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (place_code, day)
);

-- Entry visits per campaign channel (a visit that arrives with utm_* from
-- outside the site), also only a daily counter.
CREATE TABLE channel_visits (
    day           TEXT NOT NULL,
    utm_source    TEXT NOT NULL DEFAULT '',
    utm_medium    TEXT NOT NULL DEFAULT '',
    utm_campaign  TEXT NOT NULL DEFAULT '',
    count         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, utm_source, utm_medium, utm_campaign)
);
