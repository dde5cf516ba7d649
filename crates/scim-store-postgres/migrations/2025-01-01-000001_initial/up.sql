-- Migration 1: the initial schema. diesel_migrations applies it once, in one
-- transaction, recording it in __diesel_schema_migrations of the store's
-- schema (the first entry of every connection's search_path). Never edit an
-- applied migration: add a new directory.
--
-- Every table leads with `tenant`, so every lookup is a prefix of an index
-- and one tenant's rows cannot be reached through another tenant's key.
-- Resource and tenant ids are UUIDs (16 bytes; their text form is the
-- lower-case canonical one, whose text order is the uuid order). Key columns
-- are COLLATE "C": byte order, which is Rust's `str` order, and memcmp is the
-- cheapest comparison.

CREATE TABLE tenants (
    id        uuid PRIMARY KEY,
    name      text COLLATE "C" NOT NULL,
    created   timestamptz NOT NULL,
    -- The last audit seq handed out in this tenant (see `audit`).
    audit_seq bigint NOT NULL DEFAULT 0,
    CONSTRAINT tenants_name_key UNIQUE (name)
);

-- One row per resource. `doc` is the validated document (no id, meta or
-- members). The other columns are derived from it in Rust on every write:
--   doc_fold          doc with every string value Rust-lower-cased (keys
--                     unchanged): case-insensitive filters compare against it,
--                     because PostgreSQL's lower() folds per collation and
--                     disagrees with Rust's to_lowercase (final sigma, İ, ß...)
--   user_name_key     userName.to_lowercase() for users, the unique key
--   external_id       externalId as is (caseExact)
--   display_name_key  displayName.to_lowercase()
--   email_keys        every emails[].value, to_lowercase()
-- so the lookups identity providers make are index lookups.
CREATE TABLE resources (
    tenant           uuid NOT NULL,
    id               uuid NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('User', 'Group')),
    version          bigint NOT NULL,
    created          timestamptz NOT NULL,
    modified         timestamptz NOT NULL,
    user_name_key    text COLLATE "C",
    external_id      text COLLATE "C",
    display_name_key text COLLATE "C",
    email_keys       text[] COLLATE "C" NOT NULL DEFAULT '{}',
    doc              jsonb NOT NULL,
    doc_fold         jsonb NOT NULL,
    CONSTRAINT resources_pkey PRIMARY KEY (tenant, id),
    CONSTRAINT resources_tenant_fkey FOREIGN KEY (tenant) REFERENCES tenants (id) ON DELETE CASCADE
);
-- Listing and counting one kind in id order (the default order, cursors).
CREATE INDEX resources_kind_id ON resources (tenant, kind, id);
-- userName is unique per tenant, case-insensitively: the index, not a
-- check-then-insert, keeps it so across server instances. Groups have NULL,
-- and NULLs never collide.
CREATE UNIQUE INDEX resources_user_name_key ON resources (tenant, user_name_key);
CREATE INDEX resources_external_id ON resources (tenant, kind, external_id);
CREATE INDEX resources_display_name ON resources (tenant, kind, display_name_key);
-- `emails.value eq` and `emails[type eq "work"].value eq`: containment
-- (`email_keys @> ARRAY[...]`) on a GIN index, kept on the row itself so a
-- write is one row, not a side table to keep in step. fastupdate off: every
-- lookup would otherwise also scan the pending list of recent inserts (up to
-- 4 MB, until a vacuum merges it), and a user has only a few emails.
CREATE INDEX resources_email_keys ON resources USING gin (email_keys) WITH (fastupdate = off);

-- Group membership, apart from the group document, so a change costs
-- O(size of the change): one row per (group, member), indexed both ways.
-- The foreign keys make "members exist in the tenant" hold under concurrent
-- deletes, and deleting a resource removes its memberships both ways.
CREATE TABLE memberships (
    tenant      uuid NOT NULL,
    group_id    uuid NOT NULL,
    member_id   uuid NOT NULL,
    member_kind text NOT NULL CHECK (member_kind IN ('User', 'Group')),
    CONSTRAINT memberships_pkey PRIMARY KEY (tenant, group_id, member_id),
    CONSTRAINT memberships_group_fkey FOREIGN KEY (tenant, group_id)
        REFERENCES resources (tenant, id) ON DELETE CASCADE,
    CONSTRAINT memberships_member_fkey FOREIGN KEY (tenant, member_id)
        REFERENCES resources (tenant, id) ON DELETE CASCADE
);
-- groups_of, cycle checks and the member side of deletes walk up this way.
CREATE INDEX memberships_member ON memberships (tenant, member_id, group_id);

-- Bearer tokens: only the argon2 hash of the secret is stored. `ordinal`
-- orders tokens created in the same instant oldest first.
CREATE TABLE tokens (
    id          text COLLATE "C" PRIMARY KEY,
    tenant      uuid NOT NULL,
    hash        text NOT NULL,
    description text,
    user_id     text,
    created     timestamptz NOT NULL,
    last_used   timestamptz,
    revoked     timestamptz,
    ordinal     bigint GENERATED ALWAYS AS IDENTITY,
    CONSTRAINT tokens_tenant_fkey FOREIGN KEY (tenant) REFERENCES tenants (id) ON DELETE CASCADE
);
CREATE INDEX tokens_tenant ON tokens (tenant, created, ordinal);

-- One event per successful mutation, written in the mutation's transaction.
-- `seq` counts per tenant from 1 with no gaps, in an order a reader can tail
-- (`after_seq`) without ever skipping an event: it is assigned to committed
-- events only, by the first audit read after their commit, which locks the
-- tenant row (tenants.audit_seq) for that one short step. Numbering in the
-- mutation instead would hold that lock until the mutation commits and
-- serialize every write of the tenant, fsync included. `id` is the order
-- events were written in, which numbering follows.
CREATE TABLE audit (
    tenant      uuid NOT NULL,
    id          bigint GENERATED ALWAYS AS IDENTITY,
    seq         bigint,
    time        timestamptz NOT NULL,
    actor       text,
    request_id  text NOT NULL,
    op          text NOT NULL CHECK (op IN ('create', 'update', 'delete')),
    kind        text NOT NULL CHECK (kind IN ('User', 'Group')),
    resource_id uuid NOT NULL,
    version     bigint NOT NULL,
    change      jsonb NOT NULL,
    CONSTRAINT audit_pkey PRIMARY KEY (tenant, id),
    CONSTRAINT audit_seq_key UNIQUE (tenant, seq),
    CONSTRAINT audit_tenant_fkey FOREIGN KEY (tenant) REFERENCES tenants (id) ON DELETE CASCADE
);
CREATE INDEX audit_unnumbered ON audit (tenant, id) WHERE seq IS NULL;
CREATE INDEX audit_resource ON audit (tenant, resource_id, seq);

-- The sortable key of an RFC 3339 date-time text, exactly as chrono's
-- DateTime::parse_from_rfc3339 (the reference evaluator's parser) reads it:
-- 12 digits of Unix seconds plus 100,000,000,000 (every year 0000-9999 is
-- positive), then 10 digits of nanoseconds (a leap second carries up to
-- 1,999,999,999, as chrono keeps it). Equal keys are equal instants, and text
-- order is time order. NULL when chrono would reject the text, so callers
-- fall back to comparing text, as the evaluator does. Written out rather than
-- cast to timestamptz: the cast keeps microseconds only, accepts forms chrono
-- rejects and raises errors on others.
CREATE FUNCTION scim_time_key(s text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
DECLARE
    m text[];
    y int; mo int; d int; hh int; mi int; ss int;
    nanos bigint := 0;
    off int := 0;
    yy int; era int; yoe int; doy int; doe int;
    days bigint;
BEGIN
    m := regexp_match(s, '^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?([Zz]|[-+\u2212][0-9]{2}:[0-5][0-9])$');
    IF m IS NULL THEN
        RETURN NULL;
    END IF;
    y := m[1]::int; mo := m[2]::int; d := m[3]::int;
    hh := m[4]::int; mi := m[5]::int; ss := m[6]::int;
    IF mo < 1 OR mo > 12 OR d < 1 OR hh > 23 OR mi > 59 OR ss > 60 THEN
        RETURN NULL;
    END IF;
    -- The last day of the month (a plain IF: PL/pgSQL would read a CASE's
    -- THEN as the end of the IF condition).
    doy := 31;
    IF mo IN (4, 6, 9, 11) THEN
        doy := 30;
    ELSIF mo = 2 THEN
        doy := 28;
        IF y % 4 = 0 AND (y % 100 <> 0 OR y % 400 = 0) THEN
            doy := 29;
        END IF;
    END IF;
    IF d > doy THEN
        RETURN NULL;
    END IF;
    -- chrono reads nine fractional digits and skips the rest.
    IF m[7] IS NOT NULL THEN
        nanos := rpad(substr(m[7], 2, 9), 9, '0')::bigint;
    END IF;
    IF ss = 60 THEN
        ss := 59;
        nanos := nanos + 1000000000;
    END IF;
    IF upper(m[8]) <> 'Z' THEN
        off := substr(m[8], 2, 2)::int * 3600 + substr(m[8], 5, 2)::int * 60;
        IF off >= 86400 THEN
            RETURN NULL;
        END IF;
        IF left(m[8], 1) <> '+' THEN
            off := -off;
        END IF;
    END IF;
    -- Days since 1970-01-01 of the proleptic Gregorian date (H. Hinnant's
    -- days_from_civil), in integer arithmetic.
    yy := y - CASE WHEN mo <= 2 THEN 1 ELSE 0 END;
    era := (CASE WHEN yy >= 0 THEN yy ELSE yy - 399 END) / 400;
    yoe := yy - era * 400;
    doy := (153 * ((mo + 9) % 12) + 2) / 5 + d - 1;
    doe := yoe * 365 + yoe / 4 - yoe / 100 + doy;
    days := era::bigint * 146097 + doe - 719468;
    RETURN lpad((days * 86400 + hh * 3600 + mi * 60 + ss - off + 100000000000)::text, 12, '0')
        || lpad(nanos::text, 10, '0');
END
$fn$;

-- The same key for a timestamptz column (meta.created, meta.lastModified).
CREATE FUNCTION scim_ts_key(t timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $fn$
    SELECT lpad((floor(e)::bigint + 100000000000)::text, 12, '0')
        || lpad(((e - floor(e)) * 1000000000)::bigint::text, 10, '0')
    FROM (SELECT extract(epoch FROM t) AS e) AS x
$fn$;
