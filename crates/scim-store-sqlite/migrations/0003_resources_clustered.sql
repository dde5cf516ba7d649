-- Migration 3: `resources` keyed by its primary key (WITHOUT ROWID).
--
-- Why: as a rowid table, a read by id walked two B-trees (the primary-key
-- index, then the table by rowid) and a page of a list in id order (how
-- Okta pages with startIndex and count) read each of its rows from a
-- different table page, since rows sat in insertion order and ids are
-- random. Keyed by (tenant, kind, id), a read by id is one B-tree walk and
-- a page of 100 users in id order is a handful of neighbouring leaf pages.
-- Rows are small (a user is well under the ~1 KB that a 4 KB page keeps
-- inline); larger documents spill to overflow pages as before.
--
-- The columns, indexes and triggers are those of migrations 1 and 2; the
-- rows are copied as they are.
CREATE TABLE resources_clustered (
    tenant           TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('User', 'Group')),
    id               TEXT NOT NULL,
    version          INTEGER NOT NULL,
    created          TEXT NOT NULL,
    modified         TEXT NOT NULL,
    user_name_key    TEXT,
    external_id      TEXT,
    display_name_key TEXT,
    doc              TEXT NOT NULL,
    created_seq      INTEGER NOT NULL,
    PRIMARY KEY (tenant, kind, id)
) WITHOUT ROWID;

INSERT INTO resources_clustered
    (tenant, kind, id, version, created, modified, user_name_key, external_id, display_name_key, doc, created_seq)
    SELECT tenant, kind, id, version, created, modified, user_name_key, external_id, display_name_key, doc, created_seq
    FROM resources ORDER BY tenant, kind, id;

-- Dropping the table drops its indexes and triggers too.
DROP TABLE resources;
ALTER TABLE resources_clustered RENAME TO resources;

CREATE UNIQUE INDEX resources_user_name ON resources (tenant, kind, user_name_key);
CREATE INDEX resources_external_id ON resources (tenant, kind, external_id);
CREATE INDEX resources_display_name ON resources (tenant, kind, display_name_key);

CREATE TRIGGER resource_counts_insert AFTER INSERT ON resources BEGIN
    INSERT OR IGNORE INTO resource_counts (tenant, kind, n, gen) VALUES (NEW.tenant, NEW.kind, 0, 0);
    UPDATE resource_counts SET n = n + 1, gen = gen + 1 WHERE tenant = NEW.tenant AND kind = NEW.kind;
END;

CREATE TRIGGER resource_counts_delete AFTER DELETE ON resources BEGIN
    UPDATE resource_counts SET n = n - 1, gen = gen + 1 WHERE tenant = OLD.tenant AND kind = OLD.kind;
END;

-- Planner statistics for `resources`, the shape of a real deployment
-- (SQLite's "manual control of query plans using sqlite_stat tables").
-- Without statistics, the planner guesses that a (tenant, kind) prefix of
-- the primary key holds ~10 rows; now that the primary key holds the rows
-- themselves, it would then prefer walking every user of a tenant to the
-- externalId or displayName index plus a key lookup. The figures say what
-- is true of every tenant that matters: many resources per (tenant, kind),
-- one per id, userName and externalId, a few per displayName. An operator's
-- own ANALYZE replaces them with measured ones.
ANALYZE sqlite_schema;
DELETE FROM sqlite_stat1 WHERE tbl = 'resources';
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
    ('resources', 'resources', '1000000 100000 50000 1'),
    ('resources', 'resources_user_name', '1000000 100000 50000 1'),
    ('resources', 'resources_external_id', '1000000 100000 50000 1'),
    ('resources', 'resources_display_name', '1000000 100000 50000 2');
-- Makes this connection's planner read the rows just written (others read
-- them when they load the schema).
ANALYZE sqlite_schema;
