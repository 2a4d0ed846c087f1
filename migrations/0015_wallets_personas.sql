-- Blockchain wallet addresses of users (one primary per network), and the profiles of the personas
-- that ticketing serves: fans (with loyalty points per attended event), creators and sponsors.

CREATE TABLE wallet_addresses (
    id         uuid        PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id),
    network    text        NOT NULL CHECK (network IN ('stellar', 'stellar_testnet')),
    address    text        NOT NULL,
    label      text        NOT NULL DEFAULT '' CHECK (length(label) <= 100),
    is_primary boolean     NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL,
    UNIQUE (user_id, network, address)
);
CREATE UNIQUE INDEX wallet_addresses_one_primary ON wallet_addresses (user_id, network) WHERE is_primary;

CREATE TABLE persona_profiles (
    user_id    uuid        NOT NULL REFERENCES users (id),
    persona    text        NOT NULL CHECK (persona IN ('fan', 'creator', 'sponsor')),
    data       jsonb       NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, persona)
);

-- Loyalty points: earned once per attended event (at its first check-in).
CREATE TABLE loyalty_points (
    user_id    uuid        NOT NULL REFERENCES users (id),
    event_id   uuid        NOT NULL REFERENCES events (id),
    points     integer     NOT NULL CHECK (points > 0),
    earned_at  timestamptz NOT NULL,
    PRIMARY KEY (user_id, event_id)
);
