-- Reverts migration 1: everything the store keeps is gone afterwards.
DROP FUNCTION IF EXISTS scim_ts_key(timestamptz);
DROP FUNCTION IF EXISTS scim_time_key(text);
DROP TABLE IF EXISTS audit;
DROP TABLE IF EXISTS tokens;
DROP TABLE IF EXISTS memberships;
DROP TABLE IF EXISTS resources;
DROP TABLE IF EXISTS tenants;
