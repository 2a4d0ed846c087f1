-- An approved version of a project's file handed to an object another domain owns: a release's cover
-- art, a track's audio, a task's deliverable, a booking contract's annex. The owning domain took the
-- bytes by its own rules; this row keeps which version went where, by whom and when.

CREATE TABLE project_file_handovers (
    id         uuid        PRIMARY KEY,
    file_id    uuid        NOT NULL,
    version    integer     NOT NULL,
    taker      text        NOT NULL CHECK (length(taker) BETWEEN 1 AND 40),
    target_id  uuid        NOT NULL,
    handed_by  uuid        NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL,
    FOREIGN KEY (file_id, version) REFERENCES project_file_versions (file_id, version)
);
CREATE INDEX project_file_handovers_file_idx ON project_file_handovers (file_id, version, created_at);
