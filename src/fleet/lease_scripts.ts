import { LuaScript } from './lua_script.js';

/*
 * The lease scripts. Every lease is a member (the job id) of two sorted sets scored by
 * its expiry in ms on Redis's own clock (`TIME`), so workers with skewed clocks agree on
 * when a lease ends: the tenant's set and the global one. The worker that holds it keeps
 * it in its own hash (job id -> tenant), which is how it renews its leases and how a
 * restarted worker finds and frees the ones its previous life left behind. Expired
 * members are dropped before every count, so a crashed worker's slots come back one TTL
 * after its last renewal and no sooner.
 *
 * Keys sit under one deployment prefix; see docs/fleet.md for the layout.
 */

const NOW_MS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * KEYS: tenant set, global set, worker hash, tenants set.
 * ARGV: lease id, tenant, tenant cap ('' for none), global cap ('' for none), ttl ms.
 * Returns 1 reserved (or already held by this worker), -1 tenant cap, -2 global cap, -3 held
 * by another worker (a call that worker refused after its answer from Redis was lost: its
 * lease stays until that worker frees it, and the call is not counted twice).
 */
export const RESERVE = new LuaScript(`${NOW_MS}
local id = ARGV[1]
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local expires = now + tonumber(ARGV[5])
if redis.call('ZSCORE', KEYS[2], id) then
  if redis.call('HEXISTS', KEYS[3], id) == 1 then
    return 1
  end
  return -3
end
if ARGV[3] ~= '' and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return -1
end
if ARGV[4] ~= '' and redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then
  return -2
end
redis.call('ZADD', KEYS[1], expires, id)
redis.call('ZADD', KEYS[2], expires, id)
redis.call('HSET', KEYS[3], id, ARGV[2])
redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[5]))
redis.call('SADD', KEYS[4], ARGV[2])
return 1
`);

/**
 * KEYS: tenant set, global set, worker hash. ARGV: lease id.
 * Returns 1 when a live lease was freed, 0 when none was held (released or expired).
 */
export const RELEASE = new LuaScript(`${NOW_MS}
local id = ARGV[1]
local score = redis.call('ZSCORE', KEYS[2], id)
redis.call('ZREM', KEYS[1], id)
redis.call('ZREM', KEYS[2], id)
redis.call('HDEL', KEYS[3], id)
if score and tonumber(score) > now then
  return 1
end
return 0
`);

/**
 * Renews (or writes back, after Redis lost them) the leases a worker holds.
 * KEYS: global set, worker hash, tenants set, then one tenant set per lease.
 * ARGV: ttl ms, then lease id and tenant for each lease, in the order of their keys.
 * Returns how many leases were not in Redis and were written back.
 */
export const RENEW = new LuaScript(`${NOW_MS}
local ttl = tonumber(ARGV[1])
local expires = now + ttl
local restored = 0
for i = 4, #KEYS do
  local id = ARGV[(i - 4) * 2 + 2]
  local tenant = ARGV[(i - 4) * 2 + 3]
  local score = redis.call('ZSCORE', KEYS[1], id)
  if not score or tonumber(score) <= now then
    restored = restored + 1
  end
  redis.call('ZADD', KEYS[i], expires, id)
  redis.call('ZADD', KEYS[1], expires, id)
  redis.call('HSET', KEYS[2], id, tenant)
  redis.call('SADD', KEYS[3], tenant)
end
if #KEYS > 3 then
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return restored
`);

/**
 * Frees every lease a worker's hash names (its previous life's leases) and the hash.
 * KEYS: global set, worker hash. ARGV: the tenant set key prefix.
 * Returns how many leases were freed.
 */
export const SWEEP = new LuaScript(`
local entries = redis.call('HGETALL', KEYS[2])
local freed = 0
for i = 1, #entries, 2 do
  local id = entries[i]
  freed = freed + redis.call('ZREM', KEYS[1], id)
  redis.call('ZREM', ARGV[1] .. entries[i + 1], id)
end
redis.call('DEL', KEYS[2])
return freed
`);

/**
 * Live lease counts by tenant and in all, for reporting.
 * KEYS: global set, tenants set. ARGV: the tenant set key prefix.
 * Returns { total, tenant1, count1, tenant2, count2, ... } for tenants holding leases;
 * tenants holding none are forgotten.
 */
export const COUNTS = new LuaScript(`${NOW_MS}
local out = { redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf') }
for _, tenant in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local key = ARGV[1] .. tenant
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  local n = redis.call('ZCARD', key)
  if n > 0 then
    table.insert(out, tenant)
    table.insert(out, n)
  else
    redis.call('SREM', KEYS[2], tenant)
  end
end
return out
`);
