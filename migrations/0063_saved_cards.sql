-- Cards kept on file by their holders, charged on their standing instruction (an organization's plan
-- renewing each month), and the card an organization's plan renews by.

CREATE TABLE saved_cards (
    id         uuid        PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id),
    provider   text        NOT NULL CHECK (provider IN ('sandbox', 'stripe')),
    -- Sealed: the sandbox card's number, or Stripe's customer and PaymentMethod. Wiped on removal.
    secret     text        NOT NULL,
    display    text        NOT NULL CHECK (length(display) BETWEEN 1 AND 40),
    created_at timestamptz NOT NULL,
    removed_at timestamptz
);
CREATE INDEX saved_cards_user_idx ON saved_cards (user_id, created_at DESC) WHERE removed_at IS NULL;

CREATE TABLE org_plan_cards (
    organization_id uuid        PRIMARY KEY REFERENCES organizations (id),
    card_id         uuid        NOT NULL REFERENCES saved_cards (id),
    set_by          uuid        NOT NULL REFERENCES users (id),
    set_at          timestamptz NOT NULL
);
