-- Migration 1: the initial schema. Applied once, inside one transaction,
-- when PRAGMA user_version is below 1. Never edit an applied migration:
-- add 0002_*.sql and list it in src/db.rs.
--
-- Every table leads with `tenant`, so every lookup is a prefix of an index
-- and one tenant's rows can never be reached through another's key.
-- Timestamps are RFC 3339 text in UTC ("2024-01-02T03:04:05.678Z" for the
-- ones the store makes, nanoseconds for token times the caller chooses):
-- fixed width, so text order is time order.

CREATE TABLE tenants (
    id      TEXT PRIMARY KEY,
    name    TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL
);

-- One row per resource. `doc` is the validated document (no id, meta or
-- members) as JSON text; the *_key columns are derived from it on every
-- write so that the filters identity providers send are index lookups:
--   user_name_key    Rust to_lowercase() of userName (users only; NULL for
--                    groups), also the case-insensitive uniqueness key
--   external_id      externalId as is (caseExact)
--   display_name_key to_lowercase() of displayName
-- Resource ids are UUID v4 in lower case (so unique per tenant without an
-- index of their own: lookups without a kind probe the key with both kinds).
CREATE TABLE resources (
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
    -- The audit seq of the resource's create event (see `audit`).
    created_seq      INTEGER NOT NULL,
    PRIMARY KEY (tenant, kind, id)
);
-- userName is unique per tenant, case-insensitively: the database, not a
-- check-then-insert, keeps it so (NULLs, i.e. groups, never collide).
CREATE UNIQUE INDEX resources_user_name ON resources (tenant, kind, user_name_key);
CREATE INDEX resources_external_id ON resources (tenant, kind, external_id);
CREATE INDEX resources_display_name ON resources (tenant, kind, display_name_key);

-- emails.value of every resource, lower-cased, for `emails.value eq` and
-- `emails[type eq "work"].value eq` (what Okta and Entra send to match a
-- user). One B-tree, keyed by value: a write removes the rows of the old
-- document's values, so no second index by resource is needed.
CREATE TABLE resource_emails (
    tenant      TEXT NOT NULL,
    value_key   TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    type        TEXT,
    PRIMARY KEY (tenant, value_key, resource_id)
) WITHOUT ROWID;

-- Group membership, kept apart from the group document so a change costs
-- O(size of the change): one row per (group, member), indexed both ways.
CREATE TABLE memberships (
    tenant      TEXT NOT NULL,
    group_id    TEXT NOT NULL,
    member_id   TEXT NOT NULL,
    member_kind TEXT NOT NULL CHECK (member_kind IN ('User', 'Group')),
    PRIMARY KEY (tenant, group_id, member_id)
) WITHOUT ROWID;
CREATE INDEX memberships_member ON memberships (tenant, member_id);

-- Bearer tokens: only the argon2 hash of the secret is stored.
CREATE TABLE tokens (
    id          TEXT PRIMARY KEY,
    tenant      TEXT NOT NULL,
    hash        TEXT NOT NULL,
    description TEXT,
    user_id     TEXT,
    created     TEXT NOT NULL,
    last_used   TEXT,
    revoked     TEXT
);
CREATE INDEX tokens_tenant ON tokens (tenant, created);

-- One event per successful mutation, written in the same transaction
-- (savepoint) as the mutation. seq counts per tenant from 1.
--
-- A resource's events are found through `audit_resource`, which leaves out
-- create events: creates are the bulk of an initial sync, and an index
-- keyed by random UUIDs costs each of them one more page write. The create
-- event is found instead through `resources.created_seq`, or for a deleted
-- resource through `origin` of its delete event.
CREATE TABLE audit (
    tenant      TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    time        TEXT NOT NULL,
    actor       TEXT,
    request_id  TEXT NOT NULL,
    op          TEXT NOT NULL,
    kind        TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    version     INTEGER NOT NULL,
    change      TEXT NOT NULL,
    -- Delete events only: the seq of the resource's create event.
    origin      INTEGER,
    PRIMARY KEY (tenant, seq)
) WITHOUT ROWID;
CREATE INDEX audit_resource ON audit (tenant, resource_id, seq) WHERE op <> 'create';
