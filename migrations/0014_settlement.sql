-- Revenue splits of an event's ticket money, attribution of orders to creators and sponsors, and the
-- settlement that pays them when the event completes.

CREATE TABLE event_splits (
    event_id       uuid    NOT NULL REFERENCES events (id),
    position       integer NOT NULL CHECK (position >= 0),
    -- artist, venue, platform or another named party.
    role           text    NOT NULL CHECK (length(role) BETWEEN 1 AND 40),
    recipient_type text    NOT NULL CHECK (recipient_type IN ('user', 'organization', 'platform')),
    recipient_id   uuid,
    bps            integer NOT NULL CHECK (bps BETWEEN 1 AND 10000),
    PRIMARY KEY (event_id, position),
    CHECK ((recipient_type = 'platform') = (recipient_id IS NULL))
);

-- An event's splits sum to exactly 10,000 basis points whenever it has any, checked at commit.
CREATE FUNCTION event_splits_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    total bigint;
    target uuid := coalesce(NEW.event_id, OLD.event_id);
BEGIN
    SELECT sum(bps) INTO total FROM event_splits WHERE event_id = target;
    IF total IS NOT NULL AND total <> 10000 THEN
        RAISE EXCEPTION 'the splits of event % sum to % basis points, not 10000', target, total
            USING ERRCODE = 'check_violation', CONSTRAINT = 'event_splits_sum';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER event_splits_sum AFTER INSERT OR UPDATE OR DELETE ON event_splits
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION event_splits_check();

ALTER TABLE events ADD COLUMN splits_frozen_at timestamptz,
                   ADD COLUMN settled_at timestamptz;

CREATE TABLE attribution_links (
    id          uuid        PRIMARY KEY,
    event_id    uuid        NOT NULL REFERENCES events (id),
    partner_id  uuid        NOT NULL REFERENCES users (id),
    kind        text        NOT NULL CHECK (kind IN ('creator', 'sponsor')),
    code        text        NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9_-]{4,40}$'),
    -- percent: share_value in basis points of each attributed order's net; fixed: minor units per order.
    share_type  text        NOT NULL CHECK (share_type IN ('percent', 'fixed')),
    share_value bigint      NOT NULL CHECK (share_value >= 0 AND (share_type = 'fixed' OR share_value <= 10000)),
    created_at  timestamptz NOT NULL
);
CREATE INDEX attribution_links_event_idx ON attribution_links (event_id);

CREATE TABLE attributions (
    order_id    uuid        PRIMARY KEY REFERENCES orders (id),
    link_id     uuid        NOT NULL REFERENCES attribution_links (id),
    state       text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'rejected', 'paid')),
    -- What was paid at settlement.
    amount      bigint      CHECK (amount IS NULL OR amount >= 0),
    created_at  timestamptz NOT NULL,
    decided_at  timestamptz,
    CHECK ((state = 'paid') = (amount IS NOT NULL))
);
CREATE INDEX attributions_link_idx ON attributions (link_id, state);

INSERT INTO notification_templates (kind, title, body, email, updated_at) VALUES
    ('event.settled', '{{event}} is settled',
     'Hi {{display_name}}, the ticket money of {{event}} was settled: {{amount}} is in your pending balance.', true, now());

ALTER TABLE orders ADD COLUMN attribution_link_id uuid REFERENCES attribution_links (id);
