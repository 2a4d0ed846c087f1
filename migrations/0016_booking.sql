-- Live booking: the directory of artists (solo or bands), venues and promoters, and bookings negotiated
-- in rounds of proposals. An artist never holds two confirmed bookings whose times overlap: an exclusion
-- constraint on the booking's time range says so.

CREATE EXTENSION IF NOT EXISTS btree_gist;

-- array_to_string is only STABLE (element output functions could vary); for text[] it cannot.
CREATE FUNCTION immutable_array_text(text[]) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT array_to_string($1, ' ') $$;

CREATE TABLE artist_profiles (
    id              uuid        PRIMARY KEY,
    user_id         uuid        REFERENCES users (id),
    org_id          uuid        REFERENCES organizations (id),
    stage_name      text        NOT NULL CHECK (length(stage_name) BETWEEN 1 AND 120),
    bio             text        NOT NULL DEFAULT '' CHECK (length(bio) <= 10000),
    genres          text[]      NOT NULL DEFAULT '{}',
    city            text,
    country         text        CHECK (country IS NULL OR country ~ '^[A-Z]{2}$'),
    latitude        double precision CHECK (latitude IS NULL OR latitude BETWEEN -90 AND 90),
    longitude       double precision CHECK (longitude IS NULL OR longitude BETWEEN -180 AND 180),
    price_min       bigint      CHECK (price_min IS NULL OR price_min >= 0),
    price_max       bigint      CHECK (price_max IS NULL OR price_max >= 0),
    currency        text        NOT NULL DEFAULT 'EUR' CHECK (currency ~ '^[A-Z]{3}$'),
    social_links    jsonb       NOT NULL DEFAULT '{}'::jsonb,
    media           jsonb       NOT NULL DEFAULT '[]'::jsonb,
    category        text        NOT NULL DEFAULT 'budding' CHECK (category IN ('budding', 'mid_scale', 'international', 'custom')),
    category_locked boolean     NOT NULL DEFAULT false,
    -- For category custom: {"artist_bps", "organizer_fee_bps", "platform_bps", "min_fee"}, set by an admin.
    custom_policy   jsonb,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    search          tsvector    GENERATED ALWAYS AS (
                        setweight(to_tsvector('simple', stage_name), 'A')
                        || setweight(to_tsvector('simple', coalesce(immutable_array_text(genres), '')), 'B')
                        || setweight(to_tsvector('simple', bio), 'C')) STORED,
    CHECK ((user_id IS NULL) <> (org_id IS NULL)),
    CHECK (price_min IS NULL OR price_max IS NULL OR price_max >= price_min)
);
CREATE UNIQUE INDEX artist_profiles_user_key ON artist_profiles (user_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX artist_profiles_org_key ON artist_profiles (org_id) WHERE org_id IS NOT NULL;
CREATE INDEX artist_profiles_search_idx ON artist_profiles USING gin (search);
CREATE INDEX artist_profiles_genres_idx ON artist_profiles USING gin (genres);

-- Every change of an artist's category, and who made it.
CREATE TABLE artist_category_changes (
    id         uuid        PRIMARY KEY,
    artist_id  uuid        NOT NULL REFERENCES artist_profiles (id),
    from_cat   text        NOT NULL,
    to_cat     text        NOT NULL,
    locked     boolean     NOT NULL,
    changed_by uuid        REFERENCES users (id),
    reason     text        NOT NULL DEFAULT '',
    changed_at timestamptz NOT NULL
);
CREATE INDEX artist_category_changes_artist_idx ON artist_category_changes (artist_id, changed_at);

CREATE TABLE venue_profiles (
    id         uuid        PRIMARY KEY,
    user_id    uuid        REFERENCES users (id),
    org_id     uuid        REFERENCES organizations (id),
    name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    address    text        NOT NULL DEFAULT '',
    city       text        NOT NULL CHECK (length(city) BETWEEN 1 AND 100),
    country    text        NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    latitude   double precision CHECK (latitude IS NULL OR latitude BETWEEN -90 AND 90),
    longitude  double precision CHECK (longitude IS NULL OR longitude BETWEEN -180 AND 180),
    capacity   integer     NOT NULL CHECK (capacity > 0),
    amenities  text[]      NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CHECK ((user_id IS NULL) <> (org_id IS NULL))
);
CREATE INDEX venue_profiles_city_idx ON venue_profiles (lower(city), capacity);

CREATE TABLE promoter_profiles (
    id             uuid        PRIMARY KEY,
    user_id        uuid        REFERENCES users (id),
    org_id         uuid        REFERENCES organizations (id),
    name           text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    contact_name   text        NOT NULL DEFAULT '',
    contact_email  text        NOT NULL DEFAULT '',
    verified       boolean     NOT NULL DEFAULT false,
    trust_score    integer     NOT NULL DEFAULT 50 CHECK (trust_score BETWEEN 0 AND 100),
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    CHECK ((user_id IS NULL) <> (org_id IS NULL))
);
CREATE UNIQUE INDEX promoter_profiles_user_key ON promoter_profiles (user_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX promoter_profiles_org_key ON promoter_profiles (org_id) WHERE org_id IS NOT NULL;

-- Events open for artists' applications.
CREATE TABLE open_calls (
    event_id    uuid        PRIMARY KEY REFERENCES events (id),
    promoter_id uuid        NOT NULL REFERENCES promoter_profiles (id),
    closes_at   timestamptz NOT NULL,
    note        text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL
);

CREATE TABLE bookings (
    id           uuid        PRIMARY KEY,
    artist_id    uuid        NOT NULL REFERENCES artist_profiles (id),
    promoter_id  uuid        NOT NULL REFERENCES promoter_profiles (id),
    venue_id     uuid        REFERENCES venue_profiles (id),
    event_id     uuid        REFERENCES events (id),
    status       text        NOT NULL CHECK (status IN ('inquiry', 'offered', 'negotiating', 'contracting', 'confirmed',
                                                        'paid_deposit', 'scheduled', 'completed', 'cancelled',
                                                        'disputed', 'refunded')),
    origin       text        NOT NULL CHECK (origin IN ('offer', 'application')),
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL,
    slot         tstzrange   GENERATED ALWAYS AS (tstzrange(starts_at, ends_at, '[)')) STORED,
    -- Proposals made so far, and whose turn it is.
    step         integer     NOT NULL DEFAULT 0 CHECK (step BETWEEN 0 AND 3),
    turn         text        CHECK (turn IN ('organizer', 'artist')),
    deadline_at  timestamptz,
    message      text        NOT NULL DEFAULT '',
    -- What was agreed, with the commission figures, once accepted.
    agreed       jsonb,
    cancelled_by text        CHECK (cancelled_by IN ('organizer', 'artist', 'system', 'admin')),
    cancel_reason text,
    created_by   uuid        NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    CHECK (ends_at > starts_at),
    CONSTRAINT bookings_no_double_booking EXCLUDE USING gist (artist_id WITH =, slot WITH &&)
        WHERE (status IN ('confirmed', 'paid_deposit', 'scheduled'))
);
CREATE INDEX bookings_artist_idx ON bookings (artist_id, starts_at);
CREATE INDEX bookings_promoter_idx ON bookings (promoter_id, starts_at);

CREATE TABLE booking_proposals (
    booking_id  uuid        NOT NULL REFERENCES bookings (id),
    step        integer     NOT NULL CHECK (step BETWEEN 1 AND 3),
    side        text        NOT NULL CHECK (side IN ('organizer', 'artist')),
    fee         bigint      NOT NULL CHECK (fee >= 0),
    currency    text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    deposit_bps integer     NOT NULL CHECK (deposit_bps BETWEEN 0 AND 10000),
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    deal_type   text        NOT NULL CHECK (deal_type IN ('flat', 'door', 'versus')),
    door_bps    integer     NOT NULL DEFAULT 0 CHECK (door_bps BETWEEN 0 AND 10000),
    rider       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    message     text        NOT NULL DEFAULT '',
    proposed_by uuid        NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (booking_id, step),
    CHECK (ends_at > starts_at)
);

INSERT INTO notification_templates (kind, title, body, email, updated_at) VALUES
    ('booking.offer', 'A booking offer from {{promoter}}', 'Hi {{display_name}}, {{promoter}} offers {{artist}} a booking on {{date}}: {{fee}}. Answer before {{deadline}}.', true, now()),
    ('booking.application', '{{artist}} applies to {{event}}', 'Hi {{display_name}}, {{artist}} applied to play {{event}}.', true, now()),
    ('booking.proposal', 'A new proposal for {{artist}} on {{date}}', 'Hi {{display_name}}, the other side proposes {{fee}}. Answer before {{deadline}}.', true, now()),
    ('booking.accepted', 'Booking agreed: {{artist}} on {{date}}', 'Hi {{display_name}}, the booking of {{artist}} on {{date}} was agreed at {{fee}}; the contract follows.', true, now()),
    ('booking.cancelled', 'Booking cancelled: {{artist}} on {{date}}', 'Hi {{display_name}}, the booking of {{artist}} on {{date}} was cancelled ({{reason}}).', true, now());
