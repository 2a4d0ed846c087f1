-- A sliced account's credit goes to the slice of the connection that posts it. The slice was the
-- server process's id modulo 64, and with twenty connections a few usually shared one, so their sales
-- waited for each other's commits. The service now numbers its connections (`backline.slot`, set when
-- a connection opens, counting on from a random start in each process), so the connections of one
-- process never share a slice while they are fewer than 64; a connection without a slot (psql, another
-- tool) keeps the process id.
CREATE FUNCTION ledger_slice() RETURNS smallint LANGUAGE sql STABLE AS $$
    SELECT (coalesce(nullif(current_setting('backline.slot', true), '')::bigint, pg_backend_pid()) % 64)::smallint
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
        VALUES (NEW.account_id, ledger_slice(), NEW.amount)
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
