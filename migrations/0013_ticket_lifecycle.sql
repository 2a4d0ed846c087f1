-- After the sale: refunds, transfers between people, capped resale, and the hash-chained history of
-- every ticket of an event.

-- Who may refund and why.
CREATE TABLE ticket_refunds (
    id         uuid        PRIMARY KEY,
    ticket_id  uuid        NOT NULL REFERENCES tickets (id),
    amount     bigint      NOT NULL CHECK (amount > 0),
    reason     text        NOT NULL DEFAULT '',
    entry_id   uuid        NOT NULL REFERENCES journal_entries (id),
    refunded_by uuid       REFERENCES users (id),
    created_at timestamptz NOT NULL
);
CREATE INDEX ticket_refunds_ticket_idx ON ticket_refunds (ticket_id);

CREATE TABLE ticket_transfers (
    id          uuid        PRIMARY KEY,
    ticket_id   uuid        NOT NULL REFERENCES tickets (id),
    from_user   uuid        NOT NULL REFERENCES users (id),
    to_user     uuid        REFERENCES users (id),
    to_email    text        NOT NULL,
    state       text        NOT NULL CHECK (state IN ('pending', 'accepted', 'declined', 'cancelled')),
    created_at  timestamptz NOT NULL,
    decided_at  timestamptz,
    CHECK ((state = 'pending') = (decided_at IS NULL))
);
CREATE UNIQUE INDEX ticket_transfers_one_pending ON ticket_transfers (ticket_id) WHERE state = 'pending';
CREATE INDEX ticket_transfers_to_idx ON ticket_transfers (lower(to_email), state);
CREATE INDEX ticket_transfers_from_idx ON ticket_transfers (from_user, state);

CREATE TABLE resale_listings (
    id         uuid        PRIMARY KEY,
    ticket_id  uuid        NOT NULL REFERENCES tickets (id),
    event_id   uuid        NOT NULL REFERENCES events (id),
    seller_id  uuid        NOT NULL REFERENCES users (id),
    price      bigint      NOT NULL CHECK (price >= 0),
    currency   text        NOT NULL,
    state      text        NOT NULL CHECK (state IN ('active', 'sold', 'cancelled')),
    buyer_id   uuid        REFERENCES users (id),
    fee        bigint      NOT NULL DEFAULT 0 CHECK (fee >= 0 AND fee <= price),
    created_at timestamptz NOT NULL,
    closed_at  timestamptz,
    CHECK ((state = 'sold') = (buyer_id IS NOT NULL))
);
CREATE UNIQUE INDEX resale_listings_one_active ON resale_listings (ticket_id) WHERE state = 'active';
CREATE INDEX resale_listings_event_idx ON resale_listings (event_id, price) WHERE state = 'active';

-- The ticket chain: every issue, transfer, resale, refund and check-in of an event's tickets, each
-- record holding the hash of the one before. The event row keeps the head, so that removing the last
-- records is detected too.
CREATE TABLE ticket_chain (
    event_id   uuid        NOT NULL REFERENCES events (id),
    seq        bigint      NOT NULL CHECK (seq >= 1),
    ticket_id  uuid        NOT NULL REFERENCES tickets (id),
    action     text        NOT NULL CHECK (action IN ('issue', 'transfer', 'resale', 'refund', 'checkin')),
    data       jsonb       NOT NULL,
    prev_hash  bytea       NOT NULL CHECK (length(prev_hash) = 32),
    hash       bytea       NOT NULL CHECK (length(hash) = 32),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (event_id, seq)
);
ALTER TABLE events ADD COLUMN chain_length bigint NOT NULL DEFAULT 0,
                   ADD COLUMN chain_head bytea NOT NULL DEFAULT '\x0000000000000000000000000000000000000000000000000000000000000000';

-- Notifications of the ticket lifecycle.
INSERT INTO notification_templates (kind, title, body, email, updated_at) VALUES
    ('ticket.transfer_offered', '{{from}} sends you a ticket to {{event}}',
     'Hi {{display_name}}, {{from}} wants to give you a ticket ({{tier}}) to {{event}}. Accept it in Backline to receive it.', true, now()),
    ('ticket.transfer_accepted', 'Your ticket to {{event}} was accepted',
     'Hi {{display_name}}, {{to}} accepted your ticket to {{event}}; your old code no longer works.', true, now()),
    ('ticket.resold', 'Your ticket to {{event}} was sold',
     'Hi {{display_name}}, your resale ticket to {{event}} sold for {{price}}; {{credited}} is in your pending balance.', true, now()),
    ('ticket.refunded', 'Your ticket to {{event}} was refunded',
     'Hi {{display_name}}, {{amount}} for your ticket to {{event}} is back in your Backline wallet. {{reason}}', true, now()),
    ('event.cancelled', '{{event}} is cancelled',
     'Hi {{display_name}}, {{event}} was cancelled. Your tickets are refunded to your Backline wallet. {{reason}}', true, now()),
    ('event.postponed', '{{event}} is postponed',
     'Hi {{display_name}}, {{event}} was postponed. Your ticket stays valid for the new date. {{reason}}', true, now());
