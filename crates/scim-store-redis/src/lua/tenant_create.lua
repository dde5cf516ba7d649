-- tenant_create.lua: registers a tenant in the global registry, with its
-- name unique. Registry keys share their own hash tag ({registry}) and no
-- registry script ever touches a tenant's keys: on Redis Cluster those live
-- in other slots, and a script may only touch one.
--
-- KEYS[1]  the name -> id hash       KEYS[2]  the id -> tenant (JSON) hash
-- ARGV[1]  the name                  ARGV[2]  the id
-- ARGV[3]  the tenant (JSON)
--
-- Returns {'ok'} or {'conflict', 'name'}.
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return {'conflict', 'name'} end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return {'ok'}
