-- purge.lua: deletes a tenant's data in bounded batches, so deleting a
-- tenant of a million resources never blocks Redis for long. The caller
-- repeats it until nothing remains.
--
-- KEYS[1]  the tenant's marker key: deleted first, so from the first batch
--          on every mutation of the tenant fails with not found and every
--          read finds nothing, even while keys remain
-- ARGV[1]  BASE                      ARGV[2]  the batch size
--
-- Returns how many resources remain. Each resource's keys are derived from
-- what it stores (its unique key and index entries), so nothing needs a
-- key scan, which Redis Cluster cannot do across nodes by pattern anyway.
local base, batch = ARGV[1], tonumber(ARGV[2])
redis.call('DEL', KEYS[1])
local done = 0
for _, kind in ipairs({'user', 'group'}) do
  local list = base .. kind .. 's'
  while done < batch do
    local ids = redis.call('ZRANGE', list, 0, batch - done - 1)
    if #ids == 0 then break end
    for _, id in ipairs(ids) do
      local key = base .. kind .. ':' .. id
      local h = redis.call('HMGET', key, 'un', 'ix')
      if h[1] and h[1] ~= '' then redis.call('UNLINK', base .. h[1]) end
      -- Whole index sets go: every id in them belongs to this tenant.
      if h[2] then
        for _, s in ipairs(cjson.decode(h[2])) do redis.call('UNLINK', base .. s) end
      end
      redis.call('UNLINK', key, base .. 'members:' .. id, base .. 'memberof:' .. id)
      redis.call('ZREM', list, id)
      done = done + 1
    end
  end
end
local left = redis.call('ZCARD', base .. 'users') + redis.call('ZCARD', base .. 'groups')
if left == 0 then redis.call('UNLINK', base .. 'audit', base .. 'audit:seq') end
return left
