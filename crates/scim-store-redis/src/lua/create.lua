-- create.lua: creates one resource with its unique key, its index entries,
-- a group's initial members and the audit event, all or nothing.
--
-- KEYS[1]  the tenant's marker key
-- ARGV[1]  BASE                      ARGV[2]  kind segment: 'user' | 'group'
-- ARGV[3]  the new id                ARGV[4]  the document (JSON)
-- ARGV[5]  userName key suffix ('' for groups), the case-folded unique key
-- ARGV[6]  index key suffixes (JSON array) the resource is listed under
-- ARGV[7]  audit event details (JSON: actor, request id, change)
-- ARGV[8..] member ids, each once
--
-- Returns {'ok', created_ms, kind of each member in ARGV order...}, or
-- {'notfound'} (no such tenant), {'conflict', attribute}, {'invalid', why}.
local base, kind, id, doc, un, ix, event = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local FIRST_MEMBER = 8

if redis.call('EXISTS', KEYS[1]) == 0 then return {'notfound'} end
local key = base .. kind .. ':' .. id
if redis.call('EXISTS', key) == 1 then return {'conflict', 'id'} end
-- The unique index: the key exists exactly when some user holds the name.
if un ~= '' and redis.call('EXISTS', base .. un) == 1 then return {'conflict', 'userName'} end
if kind == 'user' and #ARGV >= FIRST_MEMBER then return {'invalid', 'users have no members'} end
-- Members must exist in this tenant (their keys share its slot). A new
-- group has no parents yet, so no member can close a cycle.
local kinds = {}
for i = FIRST_MEMBER, #ARGV do
  local k = kind_of(base, ARGV[i])
  if not k then return {'invalid', "member '" .. ARGV[i] .. "' does not exist"} end
  kinds[#kinds + 1] = k
end

-- Every check passed: from here on only writes.
local at = now_ms()
audit(base, at, 'create', kind, id, 1, event)
redis.call('HSET', key, 'doc', doc, 'v', 1, 'c', at, 'm', at, 'un', un, 'ix', ix)
redis.call('ZADD', base .. kind .. 's', 0, id)
if un ~= '' then redis.call('SET', base .. un, id) end
for _, s in ipairs(cjson.decode(ix)) do redis.call('SADD', base .. s, id) end
for i = FIRST_MEMBER, #ARGV do
  redis.call('ZADD', base .. 'members:' .. id, 0, ARGV[i])
  redis.call('SADD', base .. 'memberof:' .. ARGV[i], id)
end
local out = {'ok', at}
for _, k in ipairs(kinds) do out[#out + 1] = k end
return out
