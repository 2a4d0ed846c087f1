-- Each usage line's share of its summary's revenue, exact (units of 10^-10, shared by the running-sum
-- method so that a summary's lines add up to its revenue to the last unit), and the key it is matched
-- by: `isrc:<ISRC>` for a recording, `icpn:<13 digits>` for a release sold whole.
ALTER TABLE royalty_usages ADD COLUMN revenue numeric NOT NULL DEFAULT 0;
ALTER TABLE royalty_usages ALTER COLUMN revenue DROP DEFAULT;
ALTER TABLE royalty_usages ADD COLUMN match_key text;

-- What a report's keys were matched to: by identifier when it was read, or by staff from the
-- unmatched queue.
CREATE TABLE royalty_matches (
    report_id  uuid        NOT NULL REFERENCES royalty_reports (id) ON DELETE CASCADE,
    match_key  text        NOT NULL,
    track_id   uuid,
    release_id uuid,
    matched_by text        NOT NULL CHECK (matched_by IN ('identifier', 'staff')),
    user_id    uuid        REFERENCES users (id),
    matched_at timestamptz NOT NULL,
    PRIMARY KEY (report_id, match_key),
    CHECK ((track_id IS NULL) <> (release_id IS NULL))
);
