-- Migration 2: how many resources each tenant has of each kind, and a
-- generation that changes whenever one is created or deleted. Triggers keep
-- both in the transaction (savepoint) of the change itself, so a reader's
-- snapshot always sees them agree with the rows it sees.
--
-- Why: a list without a filter (`GET /Users?startIndex=..&count=..`, how
-- Okta pages through everything) needs `totalResults`; counting the index
-- is O(number of users) on every page. And `startIndex` is an OFFSET, also
-- O(start index): the store keeps in memory every 256th id in id order
-- (see src/ranks.rs), valid exactly while `gen` is unchanged, so a page at
-- any depth skips fewer than 256 index entries.
CREATE TABLE resource_counts (
    tenant TEXT NOT NULL,
    kind   TEXT NOT NULL,
    n      INTEGER NOT NULL,
    gen    INTEGER NOT NULL,
    PRIMARY KEY (tenant, kind)
) WITHOUT ROWID;

INSERT INTO resource_counts (tenant, kind, n, gen)
    SELECT tenant, kind, COUNT(*), 1 FROM resources GROUP BY tenant, kind;

-- Resource rows never change tenant, kind or id (updates rewrite the other
-- columns), so inserts and deletes are all the triggers need to see.
CREATE TRIGGER resource_counts_insert AFTER INSERT ON resources BEGIN
    INSERT OR IGNORE INTO resource_counts (tenant, kind, n, gen) VALUES (NEW.tenant, NEW.kind, 0, 0);
    UPDATE resource_counts SET n = n + 1, gen = gen + 1 WHERE tenant = NEW.tenant AND kind = NEW.kind;
END;

CREATE TRIGGER resource_counts_delete AFTER DELETE ON resources BEGIN
    UPDATE resource_counts SET n = n - 1, gen = gen + 1 WHERE tenant = OLD.tenant AND kind = OLD.kind;
END;
