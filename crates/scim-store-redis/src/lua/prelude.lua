-- prelude.lua: helpers shared by every tenant-slot script. It is prepended
-- to each of them before loading, so every script stays one self-contained
-- EVALSHA (Redis has no includes, and functions would need FUNCTION LOAD on
-- every Cluster node).
--
-- Every key a tenant-slot script touches is BASE .. suffix, with
-- BASE = "<prefix>:{<tenant id>}:" passed as ARGV[1] and KEYS[1] the
-- tenant's marker key (BASE .. 'tenant'). The hash tag puts all of a
-- tenant's keys in one slot, so a script never crosses slots and runs on
-- Redis Cluster; KEYS[1] is what routes the call to that slot's node.
--
-- Redis does not roll a script back when it fails half-way, so every
-- script makes all its checks first and only then writes.

-- The kind names the store uses for each key segment.
local KIND_NAME = {user = 'User', group = 'Group'}

-- Milliseconds since the epoch on the Redis clock. Every app server that
-- shares the store shares this clock, so one tenant's timestamps never go
-- backwards because two app servers disagree about the time.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- The kind ('User' or 'Group') of an existing resource of the tenant, or
-- nil. Ids are UUIDs, so at most one of the two keys exists.
local function kind_of(base, id)
  if redis.call('EXISTS', base .. 'user:' .. id) == 1 then return 'User' end
  if redis.call('EXISTS', base .. 'group:' .. id) == 1 then return 'Group' end
  return nil
end

-- Every group that contains `id`, directly or through nested groups, as a
-- set (table keyed by group id): a walk up the member->groups sets, which
-- is what the cycle check and groups_of need.
local function ancestors(base, id)
  local seen, todo = {}, {id}
  while #todo > 0 do
    local current = table.remove(todo)
    for _, g in ipairs(redis.call('SMEMBERS', base .. 'memberof:' .. current)) do
      if not seen[g] then
        seen[g] = true
        todo[#todo + 1] = g
      end
    end
  end
  return seen
end

-- Appends the audit event of a mutation that has passed every check. The
-- per-tenant sequence number is the stream entry id (<seq>-0), so readers
-- page by seq exactly with XRANGE. Called before the other writes: if the
-- XADD failed, nothing else would have been written.
local function audit(base, at, op, kind, id, version, event)
  local seq = redis.call('INCR', base .. 'audit:seq')
  redis.call('XADD', base .. 'audit', seq .. '-0',
    't', at, 'op', op, 'kind', KIND_NAME[kind], 'id', id, 'v', version, 'e', event)
end

-- One resource as readers get it, as JSON text:
-- {"id":..,"v":..,"c":..,"m":..,"doc":<the stored document>,"members":[..]}
-- or 'null' when it does not exist. Documents are stored as JSON the store
-- wrote, so they are spliced in as they are: a batch of resources crosses
-- as one bulk string and is parsed once, instead of thousands of reply
-- elements. `members` is a flat list of (member id, kind) pairs in member
-- id order, filled only for a group and only when asked (large groups are
-- read without their members).
local function fetch_json(base, kind, id, with_members)
  local h = redis.call('HMGET', base .. kind .. ':' .. id, 'doc', 'v', 'c', 'm')
  if not h[1] then return 'null' end
  local members = '[]'
  if with_members and kind == 'group' then
    local pairs_ = {}
    for _, m in ipairs(redis.call('ZRANGE', base .. 'members:' .. id, 0, -1)) do
      pairs_[#pairs_ + 1] = m
      pairs_[#pairs_ + 1] = kind_of(base, m) or 'User'
    end
    if #pairs_ > 0 then members = cjson.encode(pairs_) end
  end
  return '{"id":' .. cjson.encode(id) .. ',"v":' .. h[2] .. ',"c":' .. h[3] .. ',"m":' .. h[4]
    .. ',"doc":' .. h[1] .. ',"members":' .. members .. '}'
end

-- Resources by id as one JSON array text (entries as fetch_json gives them).
local function fetch_all(base, kind, ids, first, with_members)
  local parts = {}
  for i = first, #ids do parts[#parts + 1] = fetch_json(base, kind, ids[i], with_members) end
  return '[' .. table.concat(parts, ',') .. ']'
end

