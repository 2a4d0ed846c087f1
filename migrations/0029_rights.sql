-- Rights claims on a release or one of its tracks: who holds which share of which right, where and when.
-- Claims on one right that together exceed the whole at some territory and day are flagged as conflicts.
CREATE TABLE rights_claims (
    id              uuid        PRIMARY KEY,
    release_id      uuid        NOT NULL REFERENCES releases (id),
    -- The claim is on this track of the release; none: on the release itself.
    track_id        uuid        REFERENCES tracks (id),
    right_type      text        NOT NULL CHECK (right_type IN ('master', 'publishing', 'sync', 'performance')),
    holder          text        NOT NULL CHECK (length(holder) BETWEEN 1 AND 200),
    holder_party_id uuid        REFERENCES catalog_parties (id),
    -- Basis points: 10,000 is the whole right.
    share_bp        integer     NOT NULL CHECK (share_bp BETWEEN 1 AND 10000),
    -- ISO 3166-1 alpha-2 codes; none means worldwide.
    territories     text[]      NOT NULL DEFAULT '{}',
    starts_on       date        NOT NULL,
    ends_on         date        CHECK (ends_on IS NULL OR ends_on > starts_on),
    status          text        NOT NULL CHECK (status IN ('pending', 'verified', 'rejected', 'expired')),
    conflicted      boolean     NOT NULL DEFAULT false,
    review_note     text        CHECK (length(review_note) <= 2000),
    created_by      uuid        NOT NULL REFERENCES users (id),
    reviewed_by     uuid        REFERENCES users (id),
    reviewed_at     timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX rights_claims_release_idx ON rights_claims (release_id);
CREATE INDEX rights_claims_conflicted_idx ON rights_claims (created_at) WHERE conflicted;
