-- The money of bookings: the deposit at confirmation and the balance before the show go into the
-- booking's escrow account; completion releases it; cancellation applies its penalty; a dispute freezes it.

ALTER TABLE bookings ADD COLUMN deposit_paid_at timestamptz,
                     ADD COLUMN balance_paid_at timestamptz,
                     ADD COLUMN balance_overdue boolean NOT NULL DEFAULT false,
                     ADD COLUMN settled_at timestamptz,
                     ADD COLUMN dispute_reason text,
                     ADD COLUMN disputed_by text CHECK (disputed_by IN ('organizer', 'artist'));

-- Every movement of a booking's money, with its ledger entry.
CREATE TABLE booking_payments (
    id         uuid        PRIMARY KEY,
    booking_id uuid        NOT NULL REFERENCES bookings (id),
    kind       text        NOT NULL CHECK (kind IN ('deposit', 'balance', 'release', 'refund', 'penalty', 'split')),
    amount     bigint      NOT NULL CHECK (amount >= 0),
    entry_id   uuid        REFERENCES journal_entries (id),
    created_at timestamptz NOT NULL
);
CREATE INDEX booking_payments_booking_idx ON booking_payments (booking_id, created_at);

INSERT INTO notification_templates (kind, title, body, email, updated_at) VALUES
    ('booking.payment_due', '{{what}} due for {{artist}} on {{date}}', 'Hi {{display_name}}, the {{what}} of {{amount}} for {{artist}} on {{date}} is due {{due}}.', true, now()),
    ('booking.balance_overdue', 'Overdue: the balance for {{artist}} on {{date}}', 'Hi {{display_name}}, the balance of {{amount}} was due 24 hours before the show and is not paid.', true, now()),
    ('booking.completed', 'Booking completed: {{artist}} on {{date}}', 'Hi {{display_name}}, the booking is complete and its money released.', true, now()),
    ('booking.disputed', 'Booking disputed: {{artist}} on {{date}}', 'Hi {{display_name}}, the booking is disputed ({{reason}}); its money is frozen until an admin decides.', true, now());
