-- Migration 4: each user's `verdict`, what scim-core's
-- `UnchangedByDefault::for_rendering` found of its document when it was
-- written (16 bytes: a hash of the document and of the check, and where
-- `schemas` lies in it; see `Verdict`), set by the store's writes through
-- the SQL function `scim_verdict`.
--
-- Why: a list page of 100 users renders each from its stored text, and
-- reading that text as JSON to know the projection keeps it was a quarter
-- of the page's CPU. With the verdict, a reader hashes the text instead;
-- a verdict found by another check (another schema), or of a document
-- changed since (by anyone, the sqlite3 shell included), does not match
-- its hash and is ignored.
--
-- `verdict_seal` holds the seal of the check the stored verdicts were found
-- by (one row). When the store opens with another check (the first open
-- after this migration, or a schema or build whose check differs), it
-- finds every user's verdict again and stores the new seal (`db.rs`).
ALTER TABLE resources ADD COLUMN verdict BLOB;

CREATE TABLE verdict_seal (
    seal INTEGER NOT NULL
);
