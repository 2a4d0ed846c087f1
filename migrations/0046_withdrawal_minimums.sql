-- A higher smallest withdrawal for one user in one currency, set by the domain whose income it is (the
-- creative tasks' "10 credits' worth" for freelancers), with the reason shown when a request is below it.
CREATE TABLE withdrawal_minimums (
    user_id    uuid        NOT NULL REFERENCES users (id),
    currency   text        NOT NULL,
    minimum    bigint      NOT NULL CHECK (minimum > 0),
    reason     text        NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, currency)
);
