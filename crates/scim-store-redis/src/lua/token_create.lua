-- token_create.lua: stores a token record under its caller-chosen id,
-- bound to an existing tenant, with an insertion number that orders tokens
-- created in the same instant.
--
-- KEYS[1]  the id -> tenant hash     KEYS[2]  the token order sorted set
-- ARGV[1]  the registry's key base   ARGV[2]  the token id
-- ARGV[3]  the tenant id             ARGV[4]  the record (JSON)
-- ARGV[5]  revoked time ('' = none)  ARGV[6]  last use time ('' = none)
--
-- Revocation and last use live in their own hash fields, so revoking and
-- touching are single field writes (HSETNX keeps the first revocation).
--
-- Returns {'ok'}, {'notfound'} (no such tenant) or {'conflict', 'id'}.
local base, id, tenant = ARGV[1], ARGV[2], ARGV[3]
if redis.call('HEXISTS', KEYS[1], tenant) == 0 then return {'notfound'} end
local key = base .. 'token:' .. id
if redis.call('EXISTS', key) == 1 then return {'conflict', 'id'} end
local n = redis.call('INCR', base .. 'token-seq')
redis.call('HSET', key, 'rec', ARGV[4], 'n', n)
if ARGV[5] ~= '' then redis.call('HSET', key, 'revoked', ARGV[5]) end
if ARGV[6] ~= '' then redis.call('HSET', key, 'last_used', ARGV[6]) end
redis.call('ZADD', KEYS[2], n, id)
redis.call('SADD', base .. 'tenant-tokens:' .. tenant, id)
return {'ok'}
