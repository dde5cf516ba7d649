-- update.lua: compare-and-swap update of one resource (PUT and PATCH): the
-- document with its unique key and index entries when one is given, the
-- member delta, the version bump and the audit event, all or nothing.
--
-- KEYS[1]  the tenant's marker key
-- ARGV[1]  BASE                      ARGV[2]  kind segment: 'user' | 'group'
-- ARGV[3]  the resource id           ARGV[4]  expected version ('' = any)
-- ARGV[5]  '1' when a new document is given, else '0'
-- ARGV[6]  the new document (JSON)   ARGV[7]  its userName key suffix
-- ARGV[8]  its index key suffixes (JSON array)
-- ARGV[9]  '1' to remove every current member first
-- ARGV[10] audit event details (JSON)
-- ARGV[11] n, how many ids to remove; ARGV[12 .. 11+n] those ids;
-- ARGV[12+n ..] ids to add, each once
--
-- Returns {'ok', version, created_ms, modified_ms, document}, or
-- {'notfound'}, {'mismatch', current version}, {'conflict', 'userName'},
-- {'invalid', why}.
local base, kind, id = ARGV[1], ARGV[2], ARGV[3]
local has_doc, un, replace_all = ARGV[5] == '1', ARGV[7], ARGV[9] == '1'
local n_remove = tonumber(ARGV[11])
local FIRST_REMOVE, FIRST_ADD = 12, 12 + n_remove

if redis.call('EXISTS', KEYS[1]) == 0 then return {'notfound'} end
local key = base .. kind .. ':' .. id
local h = redis.call('HMGET', key, 'v', 'c', 'un', 'ix', 'doc')
if not h[1] then return {'notfound'} end
local version = tonumber(h[1])
if ARGV[4] ~= '' and tonumber(ARGV[4]) ~= version then return {'mismatch', version} end
if has_doc and un ~= '' then
  local owner = redis.call('GET', base .. un)
  if owner and owner ~= id then return {'conflict', 'userName'} end
end
if kind == 'user' and (replace_all or n_remove > 0 or #ARGV >= FIRST_ADD) then
  return {'invalid', 'users have no members'}
end
-- Added members must exist in the tenant. Adding group M to group G closes
-- a cycle exactly when M is G or M already contains G, that is, M is among
-- G's ancestors. Removing G's own members never changes its ancestors, so
-- checking against the current ones is right for replace-all too.
local up = nil
for i = FIRST_ADD, #ARGV do
  local m = ARGV[i]
  local k = kind_of(base, m)
  if not k then return {'invalid', "member '" .. m .. "' does not exist"} end
  if k == 'Group' then
    up = up or ancestors(base, id)
    if m == id or up[m] then
      return {'invalid', "adding group '" .. m .. "' to group '" .. id .. "' would make a membership cycle"}
    end
  end
end

-- Every check passed: from here on only writes.
local at = now_ms()
local new_version = version + 1
audit(base, at, 'update', kind, id, new_version, ARGV[10])
local doc = h[5]
if has_doc then
  doc = ARGV[6]
  local old_un = h[3]
  if old_un and old_un ~= '' and old_un ~= un then redis.call('DEL', base .. old_un) end
  if un ~= '' then redis.call('SET', base .. un, id) end
  -- Old entries out, then new ones in: an entry in both stays.
  if h[4] then
    for _, s in ipairs(cjson.decode(h[4])) do redis.call('SREM', base .. s, id) end
  end
  for _, s in ipairs(cjson.decode(ARGV[8])) do redis.call('SADD', base .. s, id) end
  redis.call('HSET', key, 'doc', doc, 'un', un, 'ix', ARGV[8])
end
-- Membership changes touch only the members named (replace-all aside), so
-- one add costs the same in a group of ten or of a hundred thousand.
local members = base .. 'members:' .. id
if replace_all then
  for _, m in ipairs(redis.call('ZRANGE', members, 0, -1)) do
    redis.call('SREM', base .. 'memberof:' .. m, id)
  end
  redis.call('DEL', members)
end
for i = FIRST_REMOVE, FIRST_ADD - 1 do
  if redis.call('ZREM', members, ARGV[i]) == 1 then
    redis.call('SREM', base .. 'memberof:' .. ARGV[i], id)
  end
end
for i = FIRST_ADD, #ARGV do
  redis.call('ZADD', members, 0, ARGV[i])
  redis.call('SADD', base .. 'memberof:' .. ARGV[i], id)
end
redis.call('HSET', key, 'v', new_version, 'm', at)
return {'ok', new_version, tonumber(h[2]), at, doc}
