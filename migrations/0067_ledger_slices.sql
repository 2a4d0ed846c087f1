-- An account that many transactions credit at the same moment (an event's escrow while its on-sale runs)
-- takes its credits in slices: a credit raises one of 64 slice rows, the one of the connection that posts
-- it, instead of the account's own row, so concurrent sales no longer queue behind one row lock
-- held to their commits. The account's balance is its row's plus its slices' (`ledger_balance`). A debit
-- still moves the account's own row, locking it, and is refused if the total would fall below zero
-- (its own row may be negative while its slices hold the credits). Slices are never removed.
ALTER TABLE ledger_accounts ADD COLUMN sliced boolean NOT NULL DEFAULT false;
ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_no_overdraft;
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_no_overdraft CHECK (allow_negative OR sliced OR balance >= 0);
UPDATE ledger_accounts SET sliced = true WHERE owner_type = 'event' AND kind = 'escrow';

CREATE TABLE ledger_account_slices (
    account_id uuid     NOT NULL REFERENCES ledger_accounts (id),
    slice      smallint NOT NULL CHECK (slice BETWEEN 0 AND 63),
    balance    bigint   NOT NULL,
    PRIMARY KEY (account_id, slice)
);

-- The balance of an account: its row's, plus its slices' when it has them.
CREATE FUNCTION ledger_balance(a ledger_accounts) RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT a.balance + CASE WHEN a.sliced
        THEN (SELECT coalesce(sum(s.balance), 0)::bigint FROM ledger_account_slices s WHERE s.account_id = a.id)
        ELSE 0 END
$$;

CREATE OR REPLACE FUNCTION ledger_apply_posting() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    account_currency text;
    is_sliced boolean;
    may_go_negative boolean;
    total bigint;
BEGIN
    -- Every posting but a credit to a sliced account moves (and locks) the account's own row.
    UPDATE ledger_accounts SET balance = balance + NEW.amount
     WHERE id = NEW.account_id AND NOT (sliced AND NEW.amount > 0)
    RETURNING currency, sliced, allow_negative INTO account_currency, is_sliced, may_go_negative;
    IF NOT FOUND THEN
        SELECT currency, sliced INTO account_currency, is_sliced FROM ledger_accounts WHERE id = NEW.account_id;
        IF account_currency IS NULL THEN
            RAISE EXCEPTION 'no ledger account %', NEW.account_id USING ERRCODE = 'foreign_key_violation';
        END IF;
        INSERT INTO ledger_account_slices AS s (account_id, slice, balance)
        VALUES (NEW.account_id, pg_backend_pid() % 64, NEW.amount)
        ON CONFLICT (account_id, slice) DO UPDATE SET balance = s.balance + EXCLUDED.balance;
    ELSIF is_sliced AND NOT may_go_negative AND NEW.amount < 0 THEN
        SELECT ledger_balance(a) INTO total FROM ledger_accounts a WHERE a.id = NEW.account_id;
        IF total < 0 THEN
            RAISE EXCEPTION 'ledger account % would be overdrawn', NEW.account_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_accounts_no_overdraft';
        END IF;
    END IF;
    IF account_currency <> NEW.currency THEN
        RAISE EXCEPTION 'posting in % to an account in %', NEW.currency, account_currency USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;
