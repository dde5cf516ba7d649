-- tenant_delete.lua: removes a tenant from the global registry with every
-- token bound to it. Runs after the tenant's own keys are purged (a
-- separate script: they live in another slot), so a failure in between
-- leaves a registered tenant without data, and deleting it again finishes
-- the job.
--
-- KEYS[1]  the name -> id hash       KEYS[2]  the id -> tenant (JSON) hash
-- KEYS[3]  the token order sorted set
-- ARGV[1]  the registry's key base ("<prefix>:registry:{registry}:")
-- ARGV[2]  the tenant id
--
-- Returns {'ok'} or {'notfound'}.
local base, id = ARGV[1], ARGV[2]
local tenant = redis.call('HGET', KEYS[2], id)
if not tenant then return {'notfound'} end
local name = cjson.decode(tenant)['name']
if redis.call('HGET', KEYS[1], name) == id then redis.call('HDEL', KEYS[1], name) end
redis.call('HDEL', KEYS[2], id)
local tokens = base .. 'tenant-tokens:' .. id
for _, t in ipairs(redis.call('SMEMBERS', tokens)) do
  redis.call('DEL', base .. 'token:' .. t)
  redis.call('ZREM', KEYS[3], t)
end
redis.call('DEL', tokens)
return {'ok'}
