-- The double-entry ledger. Every movement of money is a journal entry of two or more postings whose
-- amounts sum to zero in each currency: the database checks it at commit. Balances are kept from the
-- postings by a trigger, and an account that forbids a negative balance cannot go below zero, whatever
-- runs at the same time. Entries and postings are never changed or removed: a mistake is corrected by a
-- reversing entry.

CREATE TABLE ledger_accounts (
    id             uuid        PRIMARY KEY,
    owner_type     text        NOT NULL CHECK (owner_type IN ('user', 'organization', 'event', 'booking', 'platform')),
    owner_id       uuid,
    kind           text        NOT NULL CHECK (kind ~ '^[a-z][a-z_]*$'),
    currency       text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$' OR currency = 'CREDIT'),
    allow_negative boolean     NOT NULL DEFAULT false,
    balance        bigint      NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL,
    CONSTRAINT ledger_accounts_no_overdraft CHECK (allow_negative OR balance >= 0),
    CHECK ((owner_type = 'platform') = (owner_id IS NULL))
);
CREATE UNIQUE INDEX ledger_accounts_owner_key ON ledger_accounts (owner_type, coalesce(owner_id, '00000000-0000-0000-0000-000000000000'::uuid), kind, currency);

CREATE TABLE journal_entries (
    id          uuid        PRIMARY KEY,
    kind        text        NOT NULL CHECK (kind ~ '^[a-z][a-z_.]*$'),
    memo        text        NOT NULL DEFAULT '',
    reverses    uuid        UNIQUE REFERENCES journal_entries (id),
    metadata    jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL
);
CREATE INDEX journal_entries_created_idx ON journal_entries (created_at, id);

CREATE TABLE postings (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entry_id    uuid        NOT NULL REFERENCES journal_entries (id),
    account_id  uuid        NOT NULL REFERENCES ledger_accounts (id),
    -- Positive raises the account's balance, negative lowers it; minor units of the account's currency.
    amount      bigint      NOT NULL CHECK (amount <> 0),
    currency    text        NOT NULL,
    created_at  timestamptz NOT NULL
);
CREATE INDEX postings_account_idx ON postings (account_id, id);
CREATE INDEX postings_entry_idx ON postings (entry_id);

-- A posting is in its account's currency and moves the account's balance at once (the account row is
-- locked until the transaction ends, so concurrent movements of one account run one after another and
-- the no-overdraft check sees every one of them).
CREATE FUNCTION ledger_apply_posting() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    account_currency text;
BEGIN
    UPDATE ledger_accounts SET balance = balance + NEW.amount WHERE id = NEW.account_id
        RETURNING currency INTO account_currency;
    IF account_currency IS NULL THEN
        RAISE EXCEPTION 'no ledger account %', NEW.account_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF account_currency <> NEW.currency THEN
        RAISE EXCEPTION 'posting in % to an account in %', NEW.currency, account_currency USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER postings_apply BEFORE INSERT ON postings FOR EACH ROW EXECUTE FUNCTION ledger_apply_posting();

-- At commit, every entry touched has at least two postings and sums to zero in each currency.
CREATE FUNCTION ledger_check_entry() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    unbalanced text;
    legs integer;
BEGIN
    SELECT count(*) INTO legs FROM postings WHERE entry_id = NEW.entry_id;
    IF legs < 2 THEN
        RAISE EXCEPTION 'journal entry % has % posting(s); it needs at least two', NEW.entry_id, legs
            USING ERRCODE = 'check_violation', CONSTRAINT = 'journal_entry_balanced';
    END IF;
    SELECT string_agg(currency || ' ' || total, ', ') INTO unbalanced
      FROM (SELECT currency, sum(amount) AS total FROM postings WHERE entry_id = NEW.entry_id GROUP BY currency) t
     WHERE total <> 0;
    IF unbalanced IS NOT NULL THEN
        RAISE EXCEPTION 'journal entry % does not balance: %', NEW.entry_id, unbalanced
            USING ERRCODE = 'check_violation', CONSTRAINT = 'journal_entry_balanced';
    END IF;
    RETURN NULL;
END;
$$;
CREATE CONSTRAINT TRIGGER postings_balanced AFTER INSERT ON postings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_entry();

CREATE FUNCTION ledger_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries cannot be changed or removed; post a reversing entry' USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER journal_entries_append_only BEFORE UPDATE OR DELETE ON journal_entries FOR EACH ROW EXECUTE FUNCTION ledger_is_append_only();
CREATE TRIGGER postings_append_only BEFORE UPDATE OR DELETE ON postings FOR EACH ROW EXECUTE FUNCTION ledger_is_append_only();
CREATE TRIGGER journal_entries_no_truncate BEFORE TRUNCATE ON journal_entries FOR EACH STATEMENT EXECUTE FUNCTION ledger_is_append_only();
CREATE TRIGGER postings_no_truncate BEFORE TRUNCATE ON postings FOR EACH STATEMENT EXECUTE FUNCTION ledger_is_append_only();

-- Idempotency keys of money-moving requests: the first response, kept at least 24 hours.
CREATE TABLE idempotency_keys (
    scope        text        NOT NULL,
    key          text        NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    fingerprint  bytea       NOT NULL,
    status       integer,
    response     jsonb,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
