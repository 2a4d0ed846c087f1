-- Review of a file's versions: comments anchored to a version (a point or a region of an image, a time
-- in audio or video, a page of a PDF, or the whole version), open until resolved.
CREATE TABLE review_comments (
    id          uuid        PRIMARY KEY,
    file_id     uuid        NOT NULL,
    version     integer     NOT NULL,
    author_id   uuid        NOT NULL REFERENCES users (id),
    body        text        NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
    anchor      jsonb       NOT NULL,
    resolved_at timestamptz,
    resolved_by uuid        REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    FOREIGN KEY (file_id, version) REFERENCES project_file_versions (file_id, version),
    CONSTRAINT review_comments_resolved CHECK ((resolved_at IS NULL) = (resolved_by IS NULL))
);
CREATE INDEX review_comments_version_idx ON review_comments (file_id, version, created_at);

-- A version's status changes, each kept: who moved it, from what, to what.
CREATE TABLE file_version_reviews (
    id         uuid        PRIMARY KEY,
    file_id    uuid        NOT NULL,
    version    integer     NOT NULL,
    from_status text       NOT NULL,
    to_status  text        NOT NULL,
    by_user    uuid        NOT NULL REFERENCES users (id),
    note       text        CHECK (length(note) <= 2000),
    created_at timestamptz NOT NULL,
    FOREIGN KEY (file_id, version) REFERENCES project_file_versions (file_id, version)
);
CREATE INDEX file_version_reviews_idx ON file_version_reviews (file_id, version, created_at);
