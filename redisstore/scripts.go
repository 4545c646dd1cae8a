package redisstore

import (
	"github.com/redis/go-redis/v9"
)

// Redis Lua numbers are doubles, exact only up to 2^53, while TATs are int64 Unix
// nanoseconds (about 1.8e18). So the scripts keep times as decimal strings and do
// exact integer arithmetic on two limbs of base 10^9. Every value handled is a
// non-negative int64 without leading zeros; sums saturate at the int64 maximum as
// ratelimit.StepNano's do.
const luaLib = `
local MAX = '9223372036854775807'
local function split(s)
  local n = #s
  if n <= 9 then return 0, tonumber(s) end
  return tonumber(string.sub(s, 1, n - 9)), tonumber(string.sub(s, n - 8))
end
local function cmp(a, b)
  local ah, al = split(a)
  local bh, bl = split(b)
  if ah ~= bh then if ah < bh then return -1 end return 1 end
  if al ~= bl then if al < bl then return -1 end return 1 end
  return 0
end
local function add(a, b)
  local ah, al = split(a)
  local bh, bl = split(b)
  local h, l = ah + bh, al + bl
  if l >= 1000000000 then h, l = h + 1, l - 1000000000 end
  local s
  if h == 0 then s = string.format('%d', l) else s = string.format('%d%09d', h, l) end
  if cmp(s, MAX) > 0 then return MAX end
  return s
end
local function later(a, b)
  if a and cmp(a, b) > 0 then return a end
  return b
end
local function settat(key, tat)
  local n = #tat
  local ms = 1
  if n > 6 then ms = tonumber(string.sub(tat, 1, n - 6)) + 1 end
  redis.call('SET', key, tat, 'PXAT', string.format('%d', ms))
end
`

// stepScript performs one GCRA step on one key, as ratelimit.StepNano does.
//
// KEYS[1] is the TAT key. ARGV: now (Unix ns; empty: the server's clock), add (ns of
// cost this instance admitted locally and has not synced: applied first, as the sync
// script does), ct (cost × emission interval in ns; "0" reads without a step), room
// (capacity − ct in ns, ≥ 0). A request is admitted iff the TAT is not after
// now + room, that is, iff its debt (TAT − now) is at most room, StepNano's test.
// Returns {tat the step saw ("" for none), now, admitted 0|1, tat after ("" for
// none)}.
var stepScript = redis.NewScript(luaLib + `
local key = KEYS[1]
local now = ARGV[1]
if now == '' then
  local t = redis.call('TIME')
  now = t[1] .. string.format('%06d', tonumber(t[2])) .. '000'
end
local tat = redis.call('GET', key)
local changed = false
if ARGV[2] ~= '0' then
  tat = add(later(tat, now), ARGV[2])
  changed = true
end
local before = tat or ''
local admitted = 0
if ARGV[3] ~= '0' then
  if (not tat) or cmp(tat, add(now, ARGV[4])) <= 0 then
    tat = add(later(tat, now), ARGV[3])
    admitted = 1
    changed = true
  end
end
if changed then settat(key, tat) end
return {before, now, admitted, tat or ''}
`)

// syncScript applies the deltas of several keys of one hash tag.
//
// ARGV[1] is now (Unix ns); then three arguments per key: kind, amount, extra. Kind
// "r": a TAT key; amount is the ns of cost admitted since the last sync, added GCRA
// style (TAT = max(TAT, now) + amount, not capped, so an over-admission is paid back).
// Kind "c": a counter key; amount is the delta (the count never goes below 0), extra
// the window's end in Unix ms, when the key expires. Returns the new value of each key
// as a decimal string.
var syncScript = redis.NewScript(luaLib + `
local now = ARGV[1]
local out = {}
for i = 1, #KEYS do
  local kind, amount, extra = ARGV[3 * i - 1], ARGV[3 * i], ARGV[3 * i + 1]
  if kind == 'r' then
    local tat = add(later(redis.call('GET', KEYS[i]), now), amount)
    settat(KEYS[i], tat)
    out[i] = tat
  else
    local v = redis.call('INCRBY', KEYS[i], amount)
    if v < 0 then
      redis.call('SET', KEYS[i], '0', 'KEEPTTL')
      v = 0
    end
    redis.call('PEXPIREAT', KEYS[i], extra)
    out[i] = string.format('%d', v)
  end
end
return out
`)

// banScript stores one ban and publishes it.
//
// KEYS: the ban key, the index. ARGV: member, ban JSON, until (Unix ms; empty for a
// permanent ban), channel, message, now (Unix ms). The index is pruned of expired
// members on the way.
var banScript = redis.NewScript(`
if ARGV[3] == '' then
  redis.call('SET', KEYS[1], ARGV[2])
  redis.call('ZADD', KEYS[2], 'inf', ARGV[1])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[3])
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[6])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
`)

// unbanScript removes one ban and publishes the removal.
//
// KEYS: the ban key, the index. ARGV: member, channel, message. Returns 1 if the ban
// key existed.
var unbanScript = redis.NewScript(`
local n = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return n
`)

// loadScript returns the JSON of every ban in force.
//
// KEYS[1] is the index. ARGV: now (Unix ms), the ban key prefix. The ban keys it reads
// share the index's hash tag, so they live in its slot.
var loadScript = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
local out = {}
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local v = redis.call('GET', ARGV[2] .. m)
  if v then out[#out + 1] = v else redis.call('ZREM', KEYS[1], m) end
end
return out
`)

// scripts lists every script, for loading them after a Redis restart.
var scripts = []*redis.Script{stepScript, syncScript, banScript, unbanScript, loadScript}
