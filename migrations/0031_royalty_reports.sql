-- Stores' sales reports (DDEX DSR) as received: one report in one or several files, read by a job into
-- its summary records and usage lines. A refused report keeps its errors and nothing of its lines.
CREATE TABLE royalty_reports (
    id                uuid        PRIMARY KEY,
    -- The label the report is for.
    org_id            uuid        NOT NULL REFERENCES organizations (id),
    sender_party_id   text        NOT NULL CHECK (length(sender_party_id) BETWEEN 1 AND 100),
    sender_name       text        NOT NULL CHECK (length(sender_name) <= 300),
    message_id        text        NOT NULL CHECK (length(message_id) BETWEEN 1 AND 200),
    service           text        NOT NULL DEFAULT '' CHECK (length(service) <= 300),
    usage_start       text        NOT NULL CHECK (length(usage_start) <= 10),
    usage_end         text        NOT NULL CHECK (length(usage_end) <= 10),
    number_of_files   integer     NOT NULL CHECK (number_of_files BETWEEN 1 AND 1000),
    -- receiving: files still expected; queued; reading; loaded: read and kept; refused: nothing kept.
    status            text        NOT NULL CHECK (status IN ('receiving', 'queued', 'reading', 'loaded', 'refused')),
    -- The report this one corrects (which is then replaced).
    replaces          uuid        REFERENCES royalty_reports (id),
    -- Set in the same transaction as the correction is created (which needs the old one out of the way
    -- of the unique index first): checked at commit.
    replaced_by       uuid        REFERENCES royalty_reports (id) DEFERRABLE INITIALLY DEFERRED,
    lines_total       bigint      NOT NULL DEFAULT 0,
    lines_done        bigint      NOT NULL DEFAULT 0,
    usage_lines       bigint      NOT NULL DEFAULT 0,
    summary_records   integer     NOT NULL DEFAULT 0,
    errors            jsonb       NOT NULL DEFAULT '[]',
    error_count       bigint      NOT NULL DEFAULT 0,
    created_by        uuid        NOT NULL REFERENCES users (id),
    created_at        timestamptz NOT NULL,
    started_at        timestamptz,
    finished_at       timestamptz
);
-- One live report per sender and message: the same report twice is a duplicate; a correction replaces.
CREATE UNIQUE INDEX royalty_reports_message_key ON royalty_reports (sender_party_id, message_id)
    WHERE status <> 'refused' AND replaced_by IS NULL;
CREATE INDEX royalty_reports_org_idx ON royalty_reports (org_id, created_at DESC);

CREATE TABLE royalty_report_files (
    report_id   uuid    NOT NULL REFERENCES royalty_reports (id) ON DELETE CASCADE,
    file_number integer NOT NULL CHECK (file_number >= 1),
    sha256      text    NOT NULL REFERENCES stored_files (sha256),
    size        bigint  NOT NULL,
    gzip        boolean NOT NULL,
    file_name   text    CHECK (length(file_name) <= 255),
    PRIMARY KEY (report_id, file_number)
);

-- A report's summary records: each sales context with the revenue its lines share.
CREATE TABLE royalty_summaries (
    report_id        uuid    NOT NULL REFERENCES royalty_reports (id) ON DELETE CASCADE,
    summary_id       text    NOT NULL,
    record_type      text    NOT NULL,
    territory        text    NOT NULL,
    commercial_model text    NOT NULL,
    use_type         text    NOT NULL,
    service          text    NOT NULL,
    total_usages     bigint  NOT NULL,
    currency         text    NOT NULL,
    net_revenue      numeric NOT NULL,
    PRIMARY KEY (report_id, summary_id)
);

-- A report's usage lines, loaded by COPY.
CREATE TABLE royalty_usages (
    report_id       uuid     NOT NULL REFERENCES royalty_reports (id) ON DELETE CASCADE,
    file_number     integer  NOT NULL,
    line            bigint   NOT NULL,
    summary_id      text     NOT NULL,
    block_id        text     NOT NULL,
    transaction_id  text     NOT NULL,
    record_type     text     NOT NULL,
    isrc            text,
    icpn            text,
    dsp_id          text,
    proprietary_ids text[]   NOT NULL DEFAULT '{}',
    title           text     NOT NULL,
    artist          text     NOT NULL,
    royalty_bearing boolean  NOT NULL,
    usages          bigint   NOT NULL,
    use_type        text     NOT NULL
);
-- Loaded in bulk: one index, by report (matching, allocation and deletion go report by report).
CREATE INDEX royalty_usages_report_idx ON royalty_usages (report_id);
