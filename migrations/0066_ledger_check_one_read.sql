-- The commit-time check of an entry reads its postings once (their count and each currency's sum in one
-- query) instead of twice: it runs for every posting while a sale holds its tier's row.
CREATE OR REPLACE FUNCTION ledger_check_entry() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    unbalanced text;
    legs integer;
BEGIN
    SELECT sum(n)::integer, string_agg(currency || ' ' || total, ', ') FILTER (WHERE total <> 0)
      INTO legs, unbalanced
      FROM (SELECT currency, sum(amount) AS total, count(*) AS n FROM postings WHERE entry_id = NEW.entry_id GROUP BY currency) t;
    IF coalesce(legs, 0) < 2 THEN
        RAISE EXCEPTION 'journal entry % has % posting(s); it needs at least two', NEW.entry_id, coalesce(legs, 0)
            USING ERRCODE = 'check_violation', CONSTRAINT = 'journal_entry_balanced';
    END IF;
    IF unbalanced IS NOT NULL THEN
        RAISE EXCEPTION 'journal entry % does not balance: %', NEW.entry_id, unbalanced
            USING ERRCODE = 'check_violation', CONSTRAINT = 'journal_entry_balanced';
    END IF;
    RETURN NULL;
END;
$$;
