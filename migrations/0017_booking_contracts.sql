-- Contracts of bookings: versions generated from the agreement (each with the SHA-256 of its text) and
-- signatures, promoter first, then artist.

CREATE TABLE booking_contracts (
    booking_id   uuid        NOT NULL REFERENCES bookings (id),
    version      integer     NOT NULL CHECK (version >= 1),
    document     jsonb       NOT NULL,
    text         text        NOT NULL,
    sha256       bytea       NOT NULL CHECK (length(sha256) = 32),
    -- The side whose edit request produced this version (none for the first).
    edited_by    text        CHECK (edited_by IN ('organizer', 'artist')),
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (booking_id, version)
);

CREATE TABLE booking_signatures (
    booking_id uuid        NOT NULL,
    version    integer     NOT NULL,
    side       text        NOT NULL CHECK (side IN ('organizer', 'artist')),
    user_id    uuid        NOT NULL REFERENCES users (id),
    sha256     bytea       NOT NULL CHECK (length(sha256) = 32),
    ip         text,
    user_agent text,
    signed_at  timestamptz NOT NULL,
    PRIMARY KEY (booking_id, version, side),
    FOREIGN KEY (booking_id, version) REFERENCES booking_contracts (booking_id, version)
);

ALTER TABLE bookings ADD COLUMN contract_version integer,
                     ADD COLUMN contract_deadline timestamptz,
                     ADD COLUMN organizer_edited boolean NOT NULL DEFAULT false,
                     ADD COLUMN artist_edited boolean NOT NULL DEFAULT false,
                     ADD COLUMN review_pending boolean NOT NULL DEFAULT false;

INSERT INTO notification_templates (kind, title, body, email, updated_at) VALUES
    ('booking.contract', 'Contract ready: {{artist}} on {{date}}', 'Hi {{display_name}}, version {{version}} of the contract is ready to sign before {{deadline}}.', true, now()),
    ('booking.confirmed', 'Booking confirmed: {{artist}} on {{date}}', 'Hi {{display_name}}, the booking of {{artist}} on {{date}} is confirmed.', true, now());
