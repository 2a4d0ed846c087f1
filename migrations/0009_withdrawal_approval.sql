-- The optional admin approval of large withdrawals.
ALTER TABLE withdrawals
    ADD COLUMN needs_approval boolean NOT NULL DEFAULT false,
    ADD COLUMN approved_by uuid REFERENCES users (id),
    ADD COLUMN approved_at timestamptz;
