-- An upgrade within a paid period is charged less what is left unused of what was paid for it.
ALTER TABLE plan_charges ADD COLUMN credit_minor BIGINT NOT NULL DEFAULT 0 CHECK (credit_minor >= 0);
