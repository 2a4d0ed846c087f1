-- A refund is asked of its provider with no transaction open: the part of a payment whose refund is
-- under way is kept here (its money held in the payer's held account) until the provider answers.
ALTER TABLE payment_intents
    ADD COLUMN refund_pending bigint NOT NULL DEFAULT 0,
    ADD CONSTRAINT payment_intents_refund_pending_check
        CHECK (refund_pending >= 0 AND refunded_amount + refund_pending <= amount);
