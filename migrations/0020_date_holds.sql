-- Holds on an artist's dates: promoters pencil in a date before an offer; the earliest active hold on a
-- time is the first hold, the next the second, and a later holder may challenge the first.
CREATE TABLE date_holds (
    id                 uuid        PRIMARY KEY,
    artist_id          uuid        NOT NULL REFERENCES artist_profiles (id),
    promoter_id        uuid        NOT NULL REFERENCES promoter_profiles (id),
    starts_at          timestamptz NOT NULL,
    ends_at            timestamptz NOT NULL,
    slot               tstzrange   GENERATED ALWAYS AS (tstzrange(starts_at, ends_at, '[)')) STORED,
    state              text        NOT NULL CHECK (state IN ('active', 'released', 'expired', 'converted')),
    expires_at         timestamptz NOT NULL,
    challenged_at      timestamptz,
    challenge_deadline timestamptz,
    created_by         uuid        NOT NULL REFERENCES users (id),
    created_at         timestamptz NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX date_holds_artist_idx ON date_holds USING gist (artist_id, slot) WHERE state = 'active';

INSERT INTO notification_templates (kind, title, body, email, updated_at) VALUES
    ('booking.hold_challenged', 'Your hold on {{artist}} for {{date}} is challenged', 'Hi {{display_name}}, another promoter challenges your first hold on {{artist}} for {{date}}. Make an offer before {{deadline}} or the hold is released.', true, now());
