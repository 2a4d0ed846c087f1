-- Each freelancer's offers as counters (received, accepted, live), kept by a trigger on task_offers,
-- so that ranking 5,000 candidates reads one row each instead of counting their offers every time;
-- and an index of the tasks that count toward a workload.

CREATE TABLE freelancer_offer_stats (
    user_id  uuid    PRIMARY KEY REFERENCES freelancers (user_id),
    received integer NOT NULL DEFAULT 0 CHECK (received >= 0),
    accepted integer NOT NULL DEFAULT 0 CHECK (accepted BETWEEN 0 AND received),
    live     integer NOT NULL DEFAULT 0 CHECK (live >= 0)
);

CREATE FUNCTION task_offers_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO freelancer_offer_stats AS s (user_id, received, live)
        VALUES (NEW.user_id, CASE WHEN NEW.status = 'withdrawn' THEN 0 ELSE 1 END, CASE WHEN NEW.status = 'offered' THEN 1 ELSE 0 END)
        ON CONFLICT (user_id) DO UPDATE
            SET received = s.received + EXCLUDED.received, live = s.live + EXCLUDED.live;
    ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
        UPDATE freelancer_offer_stats
           SET live = live - CASE WHEN OLD.status = 'offered' THEN 1 ELSE 0 END
                           + CASE WHEN NEW.status = 'offered' THEN 1 ELSE 0 END,
               accepted = accepted + CASE WHEN NEW.status = 'accepted' THEN 1 ELSE 0 END
                                   - CASE WHEN OLD.status = 'accepted' THEN 1 ELSE 0 END,
               -- A withdrawn offer was never the freelancer's to answer: it does not count as received.
               received = received - CASE WHEN NEW.status = 'withdrawn' AND OLD.status <> 'withdrawn' THEN 1 ELSE 0 END
         WHERE user_id = NEW.user_id;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER task_offers_count AFTER INSERT OR UPDATE OF status ON task_offers
    FOR EACH ROW EXECUTE FUNCTION task_offers_count();

INSERT INTO freelancer_offer_stats (user_id, received, accepted, live)
SELECT user_id, count(*) FILTER (WHERE status <> 'withdrawn'), count(*) FILTER (WHERE status = 'accepted'),
       count(*) FILTER (WHERE status = 'offered')
FROM task_offers GROUP BY user_id;

CREATE INDEX tasks_active_idx ON tasks (assignee)
    WHERE status IN ('assigned', 'in_progress', 'pending_admin_review', 'in_review', 'revision_requested');
