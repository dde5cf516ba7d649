-- Migration 5: `verdict_seal`, the seal of the check the stored verdicts
-- (migration 4) were found by, in one row. When the store opens with a
-- check of another seal (the first open after this migration, when the
-- table is empty; a schema or a build whose check answers otherwise), it
-- finds every user's verdict again in one UPDATE and stores the new seal
-- (`db.rs`, `refresh_verdicts`). Without it, users written before
-- migration 4, or under another schema, would have their text read on
-- every list page until written again.
CREATE TABLE verdict_seal (
    seal INTEGER NOT NULL
);
