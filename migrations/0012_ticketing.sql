-- The outbox of domain events (0005) makes way for ticketed events.
ALTER TABLE events RENAME TO domain_events;
ALTER TABLE domain_events RENAME CONSTRAINT events_pkey TO domain_events_pkey;
ALTER INDEX events_org_idx RENAME TO domain_events_org_idx;

-- Ticketing: events with categories and tags, ticket tiers, orders that hold tickets until paid, tickets
-- whose codes are re-issued on transfer or resale, and check-in.

CREATE TABLE event_categories (
    id         uuid        PRIMARY KEY,
    parent_id  uuid        REFERENCES event_categories (id) CHECK (parent_id IS NULL OR parent_id <> id),
    slug       text        NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$'),
    name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    icon       text        NOT NULL DEFAULT '' CHECK (length(icon) <= 64),
    color      text        NOT NULL DEFAULT '#6b7280' CHECK (color ~ '^#[0-9a-f]{6}$'),
    position   integer     NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL
);

CREATE TABLE tags (
    id        uuid    PRIMARY KEY,
    name      text    NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 40 AND name = lower(name)),
    use_count integer NOT NULL DEFAULT 0 CHECK (use_count >= 0)
);

CREATE TABLE events (
    id                  uuid        PRIMARY KEY,
    organizer_user_id   uuid        REFERENCES users (id),
    organizer_org_id    uuid        REFERENCES organizations (id),
    created_by          uuid        NOT NULL REFERENCES users (id),
    title               text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description         text        NOT NULL DEFAULT '' CHECK (length(description) <= 20000),
    starts_at           timestamptz NOT NULL,
    ends_at             timestamptz NOT NULL,
    timezone            text        NOT NULL,
    capacity            integer     CHECK (capacity IS NULL OR capacity > 0),
    venue_name          text,
    address             text,
    city                text,
    country             text        CHECK (country IS NULL OR country ~ '^[A-Z]{2}$'),
    cover_url           text,
    category_id         uuid        REFERENCES event_categories (id),
    status              text        NOT NULL DEFAULT 'draft'
                                    CHECK (status IN ('draft', 'published', 'postponed', 'cancelled', 'completed')),
    -- Resale price cap as a share of face value, in basis points (10,000 = face value).
    resale_cap_bps      integer     NOT NULL DEFAULT 10000 CHECK (resale_cap_bps BETWEEN 0 AND 100000),
    -- Ed25519 key that signs the event's ticket codes: the private half sealed with the server key.
    signing_key_sealed  text        NOT NULL,
    signing_public_key  bytea       NOT NULL CHECK (length(signing_public_key) = 32),
    published_at        timestamptz,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    deleted_at          timestamptz,
    search              tsvector    GENERATED ALWAYS AS (
                            setweight(to_tsvector('simple', coalesce(title, '')), 'A')
                            || setweight(to_tsvector('simple', coalesce(city, '') || ' ' || coalesce(venue_name, '')), 'B')
                            || setweight(to_tsvector('simple', coalesce(description, '')), 'C')) STORED,
    CHECK ((organizer_user_id IS NULL) <> (organizer_org_id IS NULL)),
    CHECK (ends_at > starts_at)
);
CREATE INDEX events_search_idx ON events USING gin (search);
CREATE INDEX events_public_idx ON events (starts_at, id) WHERE status IN ('published', 'postponed') AND deleted_at IS NULL;
CREATE INDEX events_user_idx ON events (organizer_user_id) WHERE organizer_user_id IS NOT NULL;
CREATE INDEX events_org_idx ON events (organizer_org_id) WHERE organizer_org_id IS NOT NULL;

CREATE TABLE event_tags (
    event_id uuid NOT NULL REFERENCES events (id),
    tag_id   uuid NOT NULL REFERENCES tags (id),
    PRIMARY KEY (event_id, tag_id)
);
CREATE INDEX event_tags_tag_idx ON event_tags (tag_id);

CREATE TABLE ticket_tiers (
    id             uuid        PRIMARY KEY,
    event_id       uuid        NOT NULL REFERENCES events (id),
    name           text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description    text        NOT NULL DEFAULT '',
    price          bigint      NOT NULL CHECK (price >= 0),
    currency       text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    quantity       integer     NOT NULL CHECK (quantity > 0),
    -- Sold and held (reserved by unpaid orders) tickets: never more than the quantity, at any instant.
    sold           integer     NOT NULL DEFAULT 0 CHECK (sold >= 0),
    held           integer     NOT NULL DEFAULT 0 CHECK (held >= 0),
    sales_start    timestamptz,
    sales_end      timestamptz,
    min_per_order  integer     NOT NULL DEFAULT 1 CHECK (min_per_order >= 1),
    max_per_order  integer     NOT NULL DEFAULT 10,
    max_per_buyer  integer     CHECK (max_per_buyer IS NULL OR max_per_buyer >= 1),
    visibility     text        NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'hidden')),
    transferable   boolean     NOT NULL DEFAULT true,
    resaleable     boolean     NOT NULL DEFAULT true,
    refundable     boolean     NOT NULL DEFAULT true,
    position       integer     NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    CONSTRAINT ticket_tiers_no_oversell CHECK (sold + held <= quantity),
    CHECK (max_per_order >= min_per_order),
    CHECK (sales_end IS NULL OR sales_start IS NULL OR sales_end > sales_start)
);
CREATE INDEX ticket_tiers_event_idx ON ticket_tiers (event_id, position);

CREATE TABLE orders (
    id                uuid        PRIMARY KEY,
    event_id          uuid        NOT NULL REFERENCES events (id),
    buyer_id          uuid        NOT NULL REFERENCES users (id),
    -- pending: tickets held until expires_at; paid: tickets issued; expired/cancelled: tickets back on sale.
    state             text        NOT NULL CHECK (state IN ('pending', 'paid', 'expired', 'cancelled')),
    amount            bigint      NOT NULL CHECK (amount >= 0),
    currency          text        NOT NULL,
    expires_at        timestamptz NOT NULL,
    payment_id        uuid        REFERENCES payment_intents (id),
    payment_entry     uuid        REFERENCES journal_entries (id),
    paid_at           timestamptz,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);
CREATE INDEX orders_buyer_idx ON orders (buyer_id, id DESC);
CREATE INDEX orders_event_idx ON orders (event_id, state);

CREATE TABLE order_items (
    order_id   uuid    NOT NULL REFERENCES orders (id),
    tier_id    uuid    NOT NULL REFERENCES ticket_tiers (id),
    quantity   integer NOT NULL CHECK (quantity > 0),
    unit_price bigint  NOT NULL CHECK (unit_price >= 0),
    PRIMARY KEY (order_id, tier_id)
);

CREATE TABLE tickets (
    id              uuid        PRIMARY KEY,
    event_id        uuid        NOT NULL REFERENCES events (id),
    tier_id         uuid        NOT NULL REFERENCES ticket_tiers (id),
    order_id        uuid        NOT NULL REFERENCES orders (id),
    holder_id       uuid        NOT NULL REFERENCES users (id),
    -- What the holder paid (face value); refunds are at most this.
    price           bigint      NOT NULL CHECK (price >= 0),
    refunded_amount bigint      NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0 AND refunded_amount <= price),
    state           text        NOT NULL DEFAULT 'valid' CHECK (state IN ('valid', 'refunded')),
    checked_in_at   timestamptz,
    checked_in_by   uuid        REFERENCES users (id),
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX tickets_holder_idx ON tickets (holder_id, id DESC);
CREATE INDEX tickets_event_idx ON tickets (event_id, tier_id);
CREATE INDEX tickets_order_idx ON tickets (order_id);

-- Every code a ticket had: the current one has no revoked_at. A code is never reused.
CREATE TABLE ticket_codes (
    code        text        PRIMARY KEY,
    ticket_id   uuid        NOT NULL REFERENCES tickets (id),
    issued_at   timestamptz NOT NULL,
    revoked_at  timestamptz,
    revoked_why text        CHECK (revoked_why IN ('transferred', 'resold', 'refunded', 'reissued')),
    CHECK ((revoked_at IS NULL) = (revoked_why IS NULL))
);
CREATE UNIQUE INDEX ticket_codes_one_current ON ticket_codes (ticket_id) WHERE revoked_at IS NULL;

-- Door staff of an event beyond its organizer's managers.
CREATE TABLE event_staff (
    event_id uuid        NOT NULL REFERENCES events (id),
    user_id  uuid        NOT NULL REFERENCES users (id),
    added_at timestamptz NOT NULL,
    PRIMARY KEY (event_id, user_id)
);
