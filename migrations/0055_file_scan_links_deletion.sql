-- Project files: each version scanned before use (quarantined until then), and files deleted (their
-- versions kept for the record, their space given back when no other file of the organization holds
-- the same content).

ALTER TABLE project_file_versions
    ADD COLUMN scan text NOT NULL DEFAULT 'clean' CHECK (scan IN ('pending', 'clean', 'infected')),
    ADD COLUMN scan_note text CHECK (length(scan_note) <= 200),
    ADD COLUMN scanned_at timestamptz;

ALTER TABLE project_files
    ADD COLUMN deleted_at timestamptz,
    ADD COLUMN deleted_by uuid REFERENCES users (id),
    ADD CONSTRAINT project_files_deleted_by CHECK ((deleted_at IS NULL) = (deleted_by IS NULL)),
    DROP CONSTRAINT project_files_name_key;
-- A name is taken by a file that is not deleted; a deleted file's name may be used again.
CREATE UNIQUE INDEX project_files_name_key ON project_files (project_id, folder, name) WHERE deleted_at IS NULL;

INSERT INTO notification_templates (kind, title, body, email, updated_at) VALUES
    ('project.file.infected', 'A file was quarantined',
     '{{project}}: {{name}} (version {{version}}) failed the virus scan ({{finding}}) and stays in quarantine.', true, now());
