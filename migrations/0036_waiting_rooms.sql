-- Waiting rooms for high-demand on-sales: buyers who arrive before the opening get a place drawn at
-- random when it opens; later arrivals join the end; the room admits places in order at a set rate into a
-- purchase window, with a signed pass the order endpoint requires while the room is open.

CREATE TABLE waiting_rooms (
    event_id          uuid        PRIMARY KEY REFERENCES events (id),
    opens_at          timestamptz NOT NULL,
    -- scheduled: taking places before the opening; open: drawn, admitting; closed: sold out or ended.
    state             text        NOT NULL DEFAULT 'scheduled' CHECK (state IN ('scheduled', 'open', 'closed')),
    -- How many places are admitted a minute, and how long an admitted buyer's pass lasts.
    rate_per_minute   integer     NOT NULL CHECK (rate_per_minute BETWEEN 1 AND 1000000),
    window_seconds    integer     NOT NULL CHECK (window_seconds BETWEEN 60 AND 3600),
    -- Most places taken from one client address.
    per_address       integer     NOT NULL CHECK (per_address BETWEEN 1 AND 100000),
    -- Places given so far (the draw gives 1..n to the early arrivals, later arrivals take the next).
    places            bigint      NOT NULL DEFAULT 0 CHECK (places >= 0),
    -- Every place up to this one has been admitted.
    admitted_through  bigint      NOT NULL DEFAULT 0 CHECK (admitted_through >= 0),
    -- Admissions are counted from this instant at the rate (`counted` of them so far), so that no
    -- fraction of a place is lost between counts; it moves when the rate changes or the cap holds some back.
    counted_from      timestamptz,
    counted           bigint      NOT NULL DEFAULT 0 CHECK (counted >= 0),
    drawn_at          timestamptz,
    closed_at         timestamptz,
    closed_reason     text        CHECK (closed_reason IN ('sold_out', 'event_ended', 'not_on_sale')),
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    CHECK ((state = 'scheduled') = (drawn_at IS NULL)),
    CHECK ((state = 'closed') = (closed_at IS NOT NULL))
);

CREATE TABLE waiting_room_places (
    event_id         uuid        NOT NULL REFERENCES waiting_rooms (event_id) ON DELETE CASCADE,
    user_id          uuid        NOT NULL REFERENCES users (id),
    client_ip        text        NOT NULL,
    -- A random key from a cryptographic generator, drawn at joining: the opening orders early
    -- arrivals by it, so the moment of arrival gives no edge. Never shown.
    draw             bigint      NOT NULL,
    joined_at        timestamptz NOT NULL,
    -- Null until the draw for an early arrival.
    position         bigint      CHECK (position > 0),
    admitted_at      timestamptz,
    pass_expires_at  timestamptz,
    -- The order the pass was spent on: a pass buys once.
    order_id         uuid        REFERENCES orders (id),
    PRIMARY KEY (event_id, user_id),
    UNIQUE (event_id, position),
    CHECK ((admitted_at IS NULL) = (pass_expires_at IS NULL)),
    CHECK (order_id IS NULL OR admitted_at IS NOT NULL)
);
CREATE INDEX waiting_room_places_address_idx ON waiting_room_places (event_id, client_ip);
CREATE INDEX waiting_room_places_active_idx ON waiting_room_places (event_id, pass_expires_at)
    WHERE admitted_at IS NOT NULL AND order_id IS NULL;
