-- Payout methods (their details sealed at rest) and withdrawals.

CREATE TABLE payout_methods (
    id             uuid        PRIMARY KEY,
    user_id        uuid        NOT NULL REFERENCES users (id),
    kind           text        NOT NULL CHECK (kind IN ('bank_account', 'paypal', 'stripe_connect')),
    details_sealed text        NOT NULL,
    display        text        NOT NULL,
    is_default     boolean     NOT NULL DEFAULT false,
    verification   text        NOT NULL DEFAULT 'unverified' CHECK (verification IN ('unverified', 'verified', 'failed')),
    created_at     timestamptz NOT NULL,
    removed_at     timestamptz
);
CREATE INDEX payout_methods_user_idx ON payout_methods (user_id) WHERE removed_at IS NULL;
-- One default per user.
CREATE UNIQUE INDEX payout_methods_one_default ON payout_methods (user_id) WHERE is_default AND removed_at IS NULL;

CREATE TABLE withdrawals (
    id               uuid        PRIMARY KEY,
    user_id          uuid        NOT NULL REFERENCES users (id),
    payout_method_id uuid        NOT NULL REFERENCES payout_methods (id),
    amount           bigint      NOT NULL CHECK (amount > 0),
    fee              bigint      NOT NULL CHECK (fee >= 0),
    currency         text        NOT NULL,
    state            text        NOT NULL CHECK (state IN ('queued', 'processing', 'paid', 'failed', 'cancelled')),
    hold_entry       uuid        NOT NULL REFERENCES journal_entries (id),
    settle_entry     uuid        REFERENCES journal_entries (id),
    failure_reason   text,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    CHECK ((state IN ('paid', 'failed', 'cancelled')) = (settle_entry IS NOT NULL))
);
CREATE INDEX withdrawals_user_idx ON withdrawals (user_id, id DESC);
