-- Payments in: payment intents and the provider events that move them.

CREATE TABLE payment_intents (
    id               uuid        PRIMARY KEY,
    user_id          uuid        NOT NULL REFERENCES users (id),
    provider         text        NOT NULL CHECK (provider IN ('sandbox', 'stripe')),
    provider_ref     text        NOT NULL UNIQUE,
    amount           bigint      NOT NULL CHECK (amount > 0),
    currency         text        NOT NULL,
    state            text        NOT NULL CHECK (state IN ('initiated', 'authorized', 'captured', 'failed', 'cancelled', 'refunded')),
    capture_method   text        NOT NULL CHECK (capture_method IN ('automatic', 'manual')),
    refunded_amount  bigint      NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0 AND refunded_amount <= amount),
    description      text        NOT NULL DEFAULT '',
    purpose          jsonb       NOT NULL DEFAULT '{}'::jsonb,
    failure_reason   text,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    CHECK (state = 'refunded' OR state = 'captured' OR refunded_amount = 0)
);
CREATE INDEX payment_intents_user_idx ON payment_intents (user_id, id DESC);

-- Every event a provider sent, processed once however often it is delivered.
CREATE TABLE provider_events (
    provider     text        NOT NULL,
    event_id     text        NOT NULL,
    type         text        NOT NULL,
    payload      jsonb       NOT NULL,
    received_at  timestamptz NOT NULL,
    processed_at timestamptz,
    PRIMARY KEY (provider, event_id)
);
