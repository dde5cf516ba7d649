-- lookup.lua: reads the index entries an equality filter names and, when
-- they name few resources, those resources too, in one atomic step: the
-- common identity-provider query (userName eq, externalId eq, id eq, ...)
-- is one round trip, and its candidates and documents come from one state.
--
-- KEYS[1]  the tenant's marker key
-- ARGV[1]  BASE                      ARGV[2]  kind segment: 'user' | 'group'
-- ARGV[3]  '1' to read groups' members, else '0'
-- ARGV[4]  the most resources to read along (the caller reads more itself)
-- ARGV[5..] pairs (type, value): ('set', index set suffix) for externalId,
--          displayName, emails and member->groups sets; ('key', userName
--          key suffix) for the unique index, whose value is one user id;
--          ('id', an id) for `id eq`, the id itself
--
-- Returns {ids of each pair..., resources}: one list of ids per pair, in
-- order, then a JSON array text of every id any pair named (see
-- fetch_json), or false when there are more than ARGV[4]. An empty list
-- when the tenant does not exist.
local base, kind, with_members, inline = ARGV[1], ARGV[2], ARGV[3] == '1', tonumber(ARGV[4])
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
local out, seen, union = {}, {}, {}
for i = 5, #ARGV, 2 do
  local ty, value = ARGV[i], ARGV[i + 1]
  local ids
  if ty == 'set' then
    ids = redis.call('SMEMBERS', base .. value)
  elseif ty == 'key' then
    local id = redis.call('GET', base .. value)
    if id then ids = {id} else ids = {} end
  else
    ids = {value}
  end
  out[#out + 1] = ids
  for _, id in ipairs(ids) do
    if not seen[id] then
      seen[id] = true
      union[#union + 1] = id
    end
  end
end
if #union <= inline then
  out[#out + 1] = fetch_all(base, kind, union, 1, with_members)
else
  out[#out + 1] = false
end
return out
