-- Secret iCalendar feed URLs of artists and venues (only a hash of the token is kept; rotating replaces it).
CREATE TABLE calendar_feeds (
    profile_kind text        NOT NULL CHECK (profile_kind IN ('artist', 'venue')),
    profile_id   uuid        NOT NULL,
    token_hash   bytea       NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (profile_kind, profile_id)
);
