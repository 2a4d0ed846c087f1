-- What project files hold, read once per content by a job from their bytes (never from their names):
-- dimensions, duration, page count, the text of PDFs and text files for search, and a thumbnail of
-- images. Each version also gets an id of its own, so that a thread can be attached to it.

CREATE TABLE project_file_contents (
    sha256       text        PRIMARY KEY REFERENCES stored_files (sha256),
    format       text        CHECK (length(format) <= 20),
    width        integer     CHECK (width > 0),
    height       integer     CHECK (height > 0),
    duration_ms  bigint      CHECK (duration_ms >= 0),
    pages        integer     CHECK (pages >= 0),
    body         text,
    thumbnail    text        REFERENCES stored_files (sha256),
    note         text        CHECK (length(note) <= 300),
    inspected_at timestamptz NOT NULL,
    search       tsvector    GENERATED ALWAYS AS (to_tsvector('simple', coalesce(body, ''))) STORED
);
CREATE INDEX project_file_contents_search_idx ON project_file_contents USING gin (search);

-- A file's name and folder as words: `cover-sketch.svg` in `artwork/drafts` is found by `sketch`.
ALTER TABLE project_files
    ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple', translate(folder || ' ' || name, './_-', '    '))) STORED;
CREATE INDEX project_files_search_idx ON project_files USING gin (search);

ALTER TABLE project_file_versions ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE project_file_versions ALTER COLUMN id DROP DEFAULT;
CREATE UNIQUE INDEX project_file_versions_id_key ON project_file_versions (id);
