-- delete.lua: deletes one resource with its unique key, index entries and
-- every membership it takes part in (as a member and as a group), and
-- appends the audit event, all or nothing.
--
-- KEYS[1]  the tenant's marker key
-- ARGV[1]  BASE                      ARGV[2]  kind segment: 'user' | 'group'
-- ARGV[3]  the resource id           ARGV[4]  expected version ('' = any)
-- ARGV[5]  audit event details (JSON)
--
-- Returns {'ok'}, {'notfound'} or {'mismatch', current version}.
local base, kind, id = ARGV[1], ARGV[2], ARGV[3]

if redis.call('EXISTS', KEYS[1]) == 0 then return {'notfound'} end
local key = base .. kind .. ':' .. id
local h = redis.call('HMGET', key, 'v', 'un', 'ix')
if not h[1] then return {'notfound'} end
local version = tonumber(h[1])
if ARGV[4] ~= '' and tonumber(ARGV[4]) ~= version then return {'mismatch', version} end

-- Every check passed: from here on only writes.
audit(base, now_ms(), 'delete', kind, id, 0, ARGV[5])
if h[2] and h[2] ~= '' then redis.call('DEL', base .. h[2]) end
if h[3] then
  for _, s in ipairs(cjson.decode(h[3])) do redis.call('SREM', base .. s, id) end
end
redis.call('ZREM', base .. kind .. 's', id)
redis.call('DEL', key)
-- As a member: out of every group that lists it.
local memberof = base .. 'memberof:' .. id
for _, g in ipairs(redis.call('SMEMBERS', memberof)) do
  redis.call('ZREM', base .. 'members:' .. g, id)
end
redis.call('DEL', memberof)
-- As a group: its members no longer belong to it.
local members = base .. 'members:' .. id
for _, m in ipairs(redis.call('ZRANGE', members, 0, -1)) do
  redis.call('SREM', base .. 'memberof:' .. m, id)
end
redis.call('DEL', members)
return {'ok'}
