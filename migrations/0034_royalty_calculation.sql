-- From matched usage lines to money: royalty lines with the distribution fee, exchange rates, payees and
-- their invitations, splits in basis points effective from a date, recoupable advances and expenses,
-- closed periods with their statements, and what each close posted to the ledger.

-- A match now always names the release: the matched one, or for a recording the release it first
-- appeared on (splits and recoupment are per release).
ALTER TABLE royalty_matches DROP CONSTRAINT royalty_matches_check;
UPDATE royalty_matches m SET release_id = (
    SELECT rt.release_id FROM release_tracks rt JOIN releases r ON r.id = rt.release_id
    WHERE rt.track_id = m.track_id ORDER BY r.created_at, r.id LIMIT 1)
WHERE m.release_id IS NULL;
ALTER TABLE royalty_matches ADD CONSTRAINT royalty_matches_subject CHECK (track_id IS NOT NULL OR release_id IS NOT NULL);

-- Exchange rates per day: one unit of `base` is `rate` units of `quote`.
CREATE TABLE royalty_exchange_rates (
    day        date        NOT NULL,
    base       text        NOT NULL CHECK (base ~ '^[A-Z]{3}$'),
    quote      text        NOT NULL CHECK (quote ~ '^[A-Z]{3}$' AND quote <> base),
    rate       numeric     NOT NULL CHECK (rate > 0),
    entered_by uuid        NOT NULL REFERENCES users (id),
    entered_at timestamptz NOT NULL,
    PRIMARY KEY (day, base, quote)
);

-- A label's distribution deal: the fee the platform keeps, in basis points of net revenue, from a date.
CREATE TABLE royalty_deals (
    org_id         uuid        NOT NULL REFERENCES organizations (id),
    effective_from date        NOT NULL,
    fee_bp         integer     NOT NULL CHECK (fee_bp BETWEEN 0 AND 10000),
    set_by         uuid        NOT NULL REFERENCES users (id),
    set_at         timestamptz NOT NULL,
    PRIMARY KEY (org_id, effective_from)
);

-- Who a label pays: the label itself (the release owner, which receives every share no one else
-- holds) or a person invited by email, who must accept within 14 days.
CREATE TABLE royalty_payees (
    id          uuid        PRIMARY KEY,
    org_id      uuid        NOT NULL REFERENCES organizations (id),
    kind        text        NOT NULL CHECK (kind IN ('label', 'person')),
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email       text        CHECK (length(email) <= 254),
    user_id     uuid        REFERENCES users (id),
    currency    text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status      text        NOT NULL CHECK (status IN ('invited', 'active', 'expired')),
    token_hash  bytea       UNIQUE,
    invited_at  timestamptz,
    expires_at  timestamptz,
    accepted_at timestamptz,
    created_at  timestamptz NOT NULL,
    CHECK ((kind = 'label') = (email IS NULL)),
    CHECK (status <> 'active' OR kind = 'label' OR user_id IS NOT NULL)
);
CREATE UNIQUE INDEX royalty_payees_label_key ON royalty_payees (org_id) WHERE kind = 'label';
CREATE INDEX royalty_payees_user_idx ON royalty_payees (user_id) WHERE user_id IS NOT NULL;

-- How a recording's (or a release's) net revenue is shared from a date on; the split in effect for a
-- report is the latest one starting on or before the report's first day, a recording's own before its
-- release's. A change is a new split: nothing is rewritten.
CREATE TABLE royalty_splits (
    id             uuid        PRIMARY KEY,
    org_id         uuid        NOT NULL REFERENCES organizations (id),
    release_id     uuid,
    track_id       uuid,
    effective_from date        NOT NULL,
    reason         text        NOT NULL DEFAULT '' CHECK (length(reason) <= 500),
    created_by     uuid        REFERENCES users (id),
    created_at     timestamptz NOT NULL,
    CHECK ((release_id IS NULL) <> (track_id IS NULL))
);
CREATE UNIQUE INDEX royalty_splits_release_key ON royalty_splits (release_id, effective_from) WHERE release_id IS NOT NULL;
CREATE UNIQUE INDEX royalty_splits_track_key ON royalty_splits (track_id, effective_from) WHERE track_id IS NOT NULL;

CREATE TABLE royalty_split_shares (
    split_id uuid    NOT NULL REFERENCES royalty_splits (id),
    payee_id uuid    NOT NULL REFERENCES royalty_payees (id),
    share_bp integer NOT NULL CHECK (share_bp BETWEEN 1 AND 10000),
    PRIMARY KEY (split_id, payee_id)
);

-- A split's shares sum to exactly 10,000 basis points, checked at commit.
CREATE FUNCTION royalty_split_whole() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    total bigint;
BEGIN
    SELECT sum(share_bp) INTO total FROM royalty_split_shares WHERE split_id = NEW.split_id;
    IF total IS DISTINCT FROM 10000 THEN
        RAISE EXCEPTION 'the shares of split % sum to % basis points, not 10000', NEW.split_id, total
            USING ERRCODE = 'check_violation', CONSTRAINT = 'royalty_split_shares_whole';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER royalty_split_shares_whole AFTER INSERT OR UPDATE ON royalty_split_shares
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION royalty_split_whole();

-- Advances and expenses a payee's share of a release repays before anything is paid to them.
CREATE TABLE royalty_recoupables (
    id          uuid        PRIMARY KEY,
    org_id      uuid        NOT NULL REFERENCES organizations (id),
    payee_id    uuid        NOT NULL REFERENCES royalty_payees (id),
    release_id  uuid        NOT NULL,
    kind        text        NOT NULL CHECK (kind IN ('advance', 'expense')),
    amount      bigint      NOT NULL CHECK (amount > 0),
    currency    text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    memo        text        NOT NULL DEFAULT '' CHECK (length(memo) <= 500),
    recorded_by uuid        NOT NULL REFERENCES users (id),
    recorded_at timestamptz NOT NULL
);
CREATE INDEX royalty_recoupables_payee_idx ON royalty_recoupables (payee_id, release_id);

-- A report's royalty lines: its matched usage lines per recording (or release) × territory ×
-- commercial model × use type, with the distribution fee of the label's deal. The store and the
-- period are the report's. Exact (NUMERIC) until a statement rounds them.
CREATE TABLE royalty_lines (
    report_id        uuid    NOT NULL REFERENCES royalty_reports (id),
    n                integer NOT NULL,
    match_key        text    NOT NULL,
    title            text    NOT NULL,
    track_id         uuid,
    release_id       uuid,
    territory        text    NOT NULL,
    commercial_model text    NOT NULL,
    use_type         text    NOT NULL,
    currency         text    NOT NULL,
    usages           bigint  NOT NULL,
    gross            numeric NOT NULL,
    fee_bp           integer NOT NULL,
    fee              numeric NOT NULL,
    net              numeric NOT NULL,
    PRIMARY KEY (report_id, n)
);

-- A label's closed months: a report whose period ended in a closed month is settled and frozen.
CREATE TABLE royalty_periods (
    org_id    uuid        NOT NULL REFERENCES organizations (id),
    period    text        NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    reports   uuid[]      NOT NULL,
    closed_by uuid        NOT NULL REFERENCES users (id),
    closed_at timestamptz NOT NULL,
    PRIMARY KEY (org_id, period)
);

-- The platform's distribution fee of a closed period, per currency, as posted.
CREATE TABLE royalty_period_fees (
    org_id   uuid    NOT NULL,
    period   text    NOT NULL,
    currency text    NOT NULL,
    exact    numeric NOT NULL,
    amount   bigint  NOT NULL,
    entry_id uuid,
    PRIMARY KEY (org_id, period, currency),
    FOREIGN KEY (org_id, period) REFERENCES royalty_periods (org_id, period)
);

-- A payee's statement for a closed period, in the payee's currency; amounts in minor units.
-- opening_balance is minus what was still to recoup; payable = earned - recouped;
-- closing_balance = opening_balance + earned - payable.
CREATE TABLE royalty_statements (
    id              uuid        PRIMARY KEY,
    org_id          uuid        NOT NULL,
    period          text        NOT NULL,
    payee_id        uuid        NOT NULL REFERENCES royalty_payees (id),
    currency        text        NOT NULL,
    opening_balance bigint      NOT NULL CHECK (opening_balance <= 0),
    earned          bigint      NOT NULL CHECK (earned >= 0),
    recouped        bigint      NOT NULL CHECK (recouped >= 0 AND recouped <= earned),
    payable         bigint      NOT NULL CHECK (payable = earned - recouped),
    closing_balance bigint      NOT NULL CHECK (closing_balance = opening_balance + recouped AND closing_balance <= 0),
    exact           numeric     NOT NULL,
    entry_id        uuid,
    recouped_entry  uuid,
    created_at      timestamptz NOT NULL,
    FOREIGN KEY (org_id, period) REFERENCES royalty_periods (org_id, period),
    UNIQUE (org_id, period, payee_id, currency)
);
CREATE INDEX royalty_statements_payee_idx ON royalty_statements (payee_id, period DESC);

-- A statement's lines by release, recording, store, territory and use type: the exact amount and the
-- minor units it was given (floors, and one more unit to the largest remainders).
CREATE TABLE royalty_statement_lines (
    statement_id uuid    NOT NULL REFERENCES royalty_statements (id),
    n            integer NOT NULL,
    release_id   uuid,
    track_id     uuid,
    title        text    NOT NULL,
    store        text    NOT NULL,
    territory    text    NOT NULL,
    use_type     text    NOT NULL,
    usages       bigint  NOT NULL,
    exact        numeric NOT NULL,
    amount       bigint  NOT NULL,
    PRIMARY KEY (statement_id, n)
);

-- What a statement recouped per release, out of what was outstanding.
CREATE TABLE royalty_recoupments (
    statement_id uuid   NOT NULL REFERENCES royalty_statements (id),
    release_id   uuid   NOT NULL,
    outstanding  bigint NOT NULL CHECK (outstanding > 0),
    recouped     bigint NOT NULL CHECK (recouped >= 0 AND recouped <= outstanding),
    PRIMARY KEY (statement_id, release_id)
);

-- Each royalty line's net revenue shared among payees by the split in effect on the report's first day
-- (the recording's own before its release's): exact, each share net × basis points × 0.0001, so a
-- line's shares sum to its net. A share whose payee is not active, and a line with no split, go to
-- the label the report is for.
CREATE FUNCTION royalty_shares(reports uuid[])
RETURNS TABLE (report_id uuid, n integer, payee_id uuid, amount numeric)
LANGUAGE sql STABLE AS $$
    WITH lines AS (
        SELECT l.report_id, l.n, l.track_id, l.release_id, l.net, r.org_id, r.usage_start::date AS day
        FROM royalty_lines l JOIN royalty_reports r ON r.id = l.report_id
        WHERE l.report_id = ANY (reports)),
    chosen AS (
        SELECT l.*, (SELECT s.id FROM royalty_splits s
                     WHERE (s.track_id = l.track_id OR s.release_id = l.release_id) AND s.effective_from <= l.day
                     ORDER BY (s.track_id IS NULL), s.effective_from DESC LIMIT 1) AS split_id
        FROM lines l)
    SELECT c.report_id, c.n, COALESCE(p.id, lp.id), c.net * COALESCE(sh.share_bp, 10000) * 0.0001
    FROM chosen c
    LEFT JOIN royalty_split_shares sh ON sh.split_id = c.split_id
    LEFT JOIN royalty_payees p ON p.id = sh.payee_id AND p.status = 'active'
    LEFT JOIN royalty_payees lp ON lp.org_id = c.org_id AND lp.kind = 'label'
$$;

INSERT INTO notification_templates (kind, title, body, email, updated_at) VALUES
    ('royalties.statement_ready', 'Your royalty statement for {{period}}',
     'Your royalty statement for {{period}} is ready: {{payable}} is payable to you, in your wallet once its holding period ends.',
     true, now()),
    ('royalties.report_read', 'Sales report {{message_id}} is read',
     '{{usage_lines}} usage lines are in and {{matched}} of its recordings and releases are matched. Its page shows where the money goes and what is left to match.',
     false, now()),
    ('royalties.report_refused', 'Sales report {{message_id}} was refused',
     '{{errors}} problems were found in it and nothing of it is kept. Its page lists them, each with its line and cell.',
     true, now());

-- A label's royalty lines for analytics, with each report's store and first day: loaded reports not
-- replaced by a correction, narrowed by the filters given (NULL: any).
CREATE FUNCTION royalty_label_lines(org uuid, from_day date, to_day date, track uuid, release uuid,
                                    store_name text, territory_code text)
RETURNS TABLE (day date, store text, track_id uuid, release_id uuid, title text, territory text,
               use_type text, currency text, usages bigint, net numeric)
LANGUAGE sql STABLE AS $$
    SELECT r.usage_start::date, COALESCE(NULLIF(r.service, ''), r.sender_name), l.track_id, l.release_id, l.title,
           l.territory, l.use_type, l.currency, l.usages, l.net
    FROM royalty_lines l JOIN royalty_reports r ON r.id = l.report_id
    WHERE r.org_id = org AND r.status = 'loaded' AND r.replaced_by IS NULL
      AND (from_day IS NULL OR r.usage_start::date >= from_day) AND (to_day IS NULL OR r.usage_start::date <= to_day)
      AND (track IS NULL OR l.track_id = track) AND (release IS NULL OR l.release_id = release)
      AND (store_name IS NULL OR COALESCE(NULLIF(r.service, ''), r.sender_name) = store_name)
      AND (territory_code IS NULL OR l.territory = territory_code)
$$;

-- Stores that send CSV exports instead of DSR: which column holds what, saved per label and store.
CREATE TABLE royalty_csv_mappings (
    org_id     uuid        NOT NULL REFERENCES organizations (id),
    store      text        NOT NULL CHECK (length(store) BETWEEN 1 AND 100),
    mapping    jsonb       NOT NULL,
    updated_by uuid        NOT NULL REFERENCES users (id),
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (org_id, store)
);

-- A report sent as a CSV export: its store and the mapping it is read with (as it was when sent).
CREATE TABLE royalty_report_csv (
    report_id uuid  PRIMARY KEY REFERENCES royalty_reports (id) ON DELETE CASCADE,
    store     text  NOT NULL,
    mapping   jsonb NOT NULL
);

-- Where a store leaves a label's sales reports (a folder of the store's SFTP server or S3 bucket), read
-- by a scheduled job; each file is taken once.
CREATE TABLE royalty_inboxes (
    id             uuid        PRIMARY KEY,
    org_id         uuid        NOT NULL REFERENCES organizations (id),
    store_id       uuid        NOT NULL,
    folder         text        NOT NULL CHECK (length(folder) BETWEEN 1 AND 500),
    -- dsr, or csv read with the mapping saved under csv_store.
    format         text        NOT NULL CHECK (format IN ('dsr', 'csv')),
    csv_store      text        CHECK (length(csv_store) BETWEEN 1 AND 100),
    enabled        boolean     NOT NULL DEFAULT true,
    created_by     uuid        NOT NULL REFERENCES users (id),
    created_at     timestamptz NOT NULL,
    last_polled_at timestamptz,
    last_error     text,
    UNIQUE (org_id, store_id, folder),
    CHECK ((format = 'csv') = (csv_store IS NOT NULL))
);

CREATE TABLE royalty_inbox_files (
    inbox_id  uuid        NOT NULL REFERENCES royalty_inboxes (id),
    name      text        NOT NULL,
    size      bigint      NOT NULL,
    report_id uuid        REFERENCES royalty_reports (id),
    -- What became of it: the report it made, or why it was not taken.
    outcome   text        NOT NULL,
    taken_at  timestamptz NOT NULL,
    PRIMARY KEY (inbox_id, name)
);

-- What staff matched by hand is remembered per label: the same key (a store's proprietary id, or an
-- ISRC the catalog does not hold) in a later report is matched to the same recording when it is read.
CREATE TABLE royalty_key_mappings (
    org_id     uuid        NOT NULL REFERENCES organizations (id),
    match_key  text        NOT NULL,
    track_id   uuid        NOT NULL,
    -- The release the recording first appeared on, when it was matched.
    release_id uuid,
    mapped_by  uuid        NOT NULL REFERENCES users (id),
    mapped_at  timestamptz NOT NULL,
    PRIMARY KEY (org_id, match_key)
);
ALTER TABLE royalty_matches DROP CONSTRAINT royalty_matches_matched_by_check;
ALTER TABLE royalty_matches ADD CONSTRAINT royalty_matches_matched_by_check
    CHECK (matched_by IN ('identifier', 'staff', 'remembered'));
