-- Documents that back a rights claim (contracts, registrations), kept in object storage by content.
CREATE TABLE rights_documents (
    claim_id    uuid        NOT NULL REFERENCES rights_claims (id) ON DELETE CASCADE,
    sha256      text        NOT NULL REFERENCES stored_files (sha256),
    size        bigint      NOT NULL CHECK (size > 0),
    md5         text        NOT NULL CHECK (md5 ~ '^[0-9a-f]{32}$'),
    media_type  text        NOT NULL CHECK (media_type IN ('application/pdf', 'image/jpeg', 'image/png')),
    file_name   text        CHECK (length(file_name) BETWEEN 1 AND 255),
    uploaded_by uuid        NOT NULL REFERENCES users (id),
    uploaded_at timestamptz NOT NULL,
    PRIMARY KEY (claim_id, sha256)
);
