-- The catalog: labels' identifier settings, the artists and contributors they credit, recordings
-- (tracks), releases with their track lists and credits.

-- A label's (or sub-label's) identifier settings. A sub-label without its own settings uses the nearest
-- parent's.
CREATE TABLE label_settings (
    org_id              uuid        PRIMARY KEY REFERENCES organizations (id),
    dpid                text        CHECK (dpid ~ '^PADPIDA[A-Za-z0-9]{1,30}$'),
    -- A GS1 company prefix (6 to 11 digits); codes are the prefix, an item reference and a check digit.
    gs1_prefix          text        CHECK (gs1_prefix ~ '^[0-9]{6,11}$'),
    -- The last item reference assigned from the prefix.
    last_item_reference bigint      NOT NULL DEFAULT 0 CHECK (last_item_reference >= 0),
    updated_at          timestamptz NOT NULL
);

-- ISRC registrant codes (country code and registrant, five characters), each held by one label.
CREATE TABLE isrc_registrants (
    code       text        PRIMARY KEY CHECK (code ~ '^[A-Z]{2}[A-Z0-9]{3}$'),
    org_id     uuid        NOT NULL REFERENCES organizations (id),
    created_at timestamptz NOT NULL
);
CREATE INDEX isrc_registrants_org_idx ON isrc_registrants (org_id);

-- The last designation number given per registrant and year: numbers only grow, so no code is reused.
CREATE TABLE isrc_sequences (
    registrant  text    NOT NULL REFERENCES isrc_registrants (code),
    year        integer NOT NULL CHECK (year BETWEEN 0 AND 99),
    last_number integer NOT NULL CHECK (last_number BETWEEN 1 AND 99999),
    PRIMARY KEY (registrant, year)
);

-- Codes a label bought and imported (UPC-A or EAN-13, check digit verified); taken one at a time.
CREATE TABLE upc_pool (
    code        text        NOT NULL CHECK (code ~ '^[0-9]{12,13}$'),
    org_id      uuid        NOT NULL REFERENCES organizations (id),
    imported_at timestamptz NOT NULL,
    taken_at    timestamptz
);
CREATE UNIQUE INDEX upc_pool_code_key ON upc_pool (lpad(code, 13, '0'));
CREATE INDEX upc_pool_free_idx ON upc_pool (org_id, code) WHERE taken_at IS NULL;

-- Artists and contributors a label credits. Roster artists are the label's own release artists.
CREATE TABLE catalog_parties (
    id                uuid        PRIMARY KEY,
    org_id            uuid        NOT NULL REFERENCES organizations (id),
    name              text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    roster            boolean     NOT NULL DEFAULT false,
    isni              text        CHECK (isni ~ '^[0-9]{15}[0-9X]$'),
    ipi               text        CHECK (ipi ~ '^[0-9]{9,11}$'),
    artist_profile_id uuid,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);
CREATE UNIQUE INDEX catalog_parties_name_key ON catalog_parties (org_id, lower(name));

-- Recordings, each with one ISRC for good: the same track may appear on several releases.
CREATE TABLE tracks (
    id               uuid        PRIMARY KEY,
    org_id           uuid        NOT NULL REFERENCES organizations (id),
    title            text        NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    version          text        CHECK (length(version) BETWEEN 1 AND 200),
    display_artist   text        NOT NULL CHECK (length(display_artist) BETWEEN 1 AND 300),
    isrc             text        CHECK (isrc ~ '^[A-Z]{2}[A-Z0-9]{3}[0-9]{7}$'),
    iswc             text        CHECK (iswc ~ '^T[0-9]{10}$'),
    explicit         boolean     NOT NULL DEFAULT false,
    language         text        CHECK (language ~ '^[a-z]{2,3}$'),
    lyrics           text        CHECK (length(lyrics) <= 20000),
    bpm              numeric(5, 2) CHECK (bpm > 0 AND bpm < 400),
    musical_key      text        CHECK (length(musical_key) BETWEEN 1 AND 20),
    preview_start_ms integer     CHECK (preview_start_ms >= 0),
    duration_ms      integer     CHECK (duration_ms > 0),
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);
CREATE UNIQUE INDEX tracks_isrc_key ON tracks (isrc);
CREATE INDEX tracks_org_idx ON tracks (org_id, created_at);

CREATE TABLE releases (
    id                    uuid        PRIMARY KEY,
    org_id                uuid        NOT NULL REFERENCES organizations (id),
    status                text        NOT NULL CHECK (status IN ('draft', 'submitted', 'changes_requested', 'approved',
                                                                 'scheduled', 'delivered', 'live',
                                                                 'takedown_requested', 'taken_down')),
    release_type          text        NOT NULL CHECK (release_type IN ('single', 'ep', 'album', 'compilation',
                                                                       'remix', 'live')),
    title                 text        NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    version               text        CHECK (length(version) BETWEEN 1 AND 200),
    display_artist        text        NOT NULL CHECK (length(display_artist) BETWEEN 1 AND 300),
    label_name            text        NOT NULL CHECK (length(label_name) BETWEEN 1 AND 200),
    genre                 text        CHECK (length(genre) BETWEEN 1 AND 100),
    subgenre              text        CHECK (length(subgenre) BETWEEN 1 AND 100),
    language              text        CHECK (language ~ '^[a-z]{2,3}$'),
    explicit              boolean     NOT NULL DEFAULT false,
    p_line_year           integer     CHECK (p_line_year BETWEEN 1900 AND 2200),
    p_line                text        CHECK (length(p_line) BETWEEN 1 AND 300),
    c_line_year           integer     CHECK (c_line_year BETWEEN 1900 AND 2200),
    c_line                text        CHECK (length(c_line) BETWEEN 1 AND 300),
    original_release_date date,
    release_date          date,
    -- Worldwide except `territories`, or only `territories` (ISO 3166-1 alpha-2 codes).
    territory_mode        text        NOT NULL DEFAULT 'worldwide' CHECK (territory_mode IN ('worldwide', 'only')),
    territories           text[]      NOT NULL DEFAULT '{}',
    price_tier            text        CHECK (price_tier IN ('budget', 'mid', 'front', 'premium')),
    upc                   text        CHECK (upc ~ '^[0-9]{12,13}$'),
    catalog_number        text        CHECK (length(catalog_number) BETWEEN 1 AND 50),
    review_notes          jsonb       NOT NULL DEFAULT '[]'::jsonb,
    created_by            uuid        NOT NULL REFERENCES users (id),
    submitted_at          timestamptz,
    reviewed_at           timestamptz,
    reviewed_by           uuid        REFERENCES users (id),
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL
);
CREATE UNIQUE INDEX releases_upc_key ON releases (lpad(upc, 13, '0'));
CREATE INDEX releases_org_idx ON releases (org_id, created_at DESC, id DESC);
CREATE INDEX releases_review_idx ON releases (submitted_at) WHERE status = 'submitted';

-- A release's own date in some territories, where it differs from `release_date`.
CREATE TABLE release_territory_dates (
    release_id   uuid NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    territory    text NOT NULL CHECK (territory ~ '^[A-Z]{2}$'),
    release_date date NOT NULL,
    PRIMARY KEY (release_id, territory)
);

-- A release's track list: disc and position, each track once.
CREATE TABLE release_tracks (
    release_id uuid     NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    track_id   uuid     NOT NULL REFERENCES tracks (id),
    disc       smallint NOT NULL CHECK (disc BETWEEN 1 AND 99),
    position   smallint NOT NULL CHECK (position BETWEEN 1 AND 999),
    PRIMARY KEY (release_id, disc, position) DEFERRABLE INITIALLY IMMEDIATE,
    UNIQUE (release_id, track_id)
);
CREATE INDEX release_tracks_track_idx ON release_tracks (track_id);

-- Who is credited, in what role, on a release or a track (exactly one of the two).
CREATE TABLE catalog_credits (
    id         uuid     PRIMARY KEY,
    release_id uuid     REFERENCES releases (id) ON DELETE CASCADE,
    track_id   uuid     REFERENCES tracks (id) ON DELETE CASCADE,
    party_id   uuid     NOT NULL REFERENCES catalog_parties (id),
    role       text     NOT NULL CHECK (role IN ('main_artist', 'featured_artist', 'remixer', 'producer', 'composer',
                                                 'lyricist', 'arranger', 'mixer', 'mastering_engineer',
                                                 'recording_engineer', 'performer', 'conductor', 'orchestra')),
    ordinal    smallint NOT NULL DEFAULT 1 CHECK (ordinal BETWEEN 1 AND 999),
    CHECK ((release_id IS NULL) <> (track_id IS NULL))
);
CREATE UNIQUE INDEX catalog_credits_release_key ON catalog_credits (release_id, party_id, role) WHERE release_id IS NOT NULL;
CREATE UNIQUE INDEX catalog_credits_track_key ON catalog_credits (track_id, party_id, role) WHERE track_id IS NOT NULL;
CREATE INDEX catalog_credits_party_idx ON catalog_credits (party_id);

INSERT INTO notification_templates (kind, title, body, email, updated_at) VALUES
    ('catalog.release_submitted', 'Release submitted: {{title}}', 'Hi {{display_name}}, {{label}} submitted "{{title}}" by {{artist}} for review.', false, now()),
    ('catalog.release_approved', '"{{title}}" is approved', 'Hi {{display_name}}, "{{title}}" by {{artist}} passed review. Choose its stores to schedule delivery.', true, now()),
    ('catalog.release_changes_requested', 'Changes requested on "{{title}}"', 'Hi {{display_name}}, the review of "{{title}}" by {{artist}} asks for changes: {{notes}}', true, now());

