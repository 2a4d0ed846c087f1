-- Each payout method is paid through one provider: Stripe Connect accounts through Stripe when it is
-- configured, everything else through the sandbox. A payout remembers the provider's reference.
ALTER TABLE payout_methods
    ADD COLUMN provider text NOT NULL DEFAULT 'sandbox' CHECK (provider IN ('sandbox', 'stripe'));
ALTER TABLE withdrawals ADD COLUMN provider_ref text;
