"""The Lua scripts of the shared frontier: each step of `HostQueue` is one call.

Each step runs as one script, so a step is all or nothing even if the worker
dies in the middle. New requests are checked against the Bloom filter and
queued by the same script: a URL is never marked seen without being queued.
A worker's usual round trip is SYNC_LUA: the links its pages found, the hosts
it freed and the pages it stored, then new leases, all in one call (a few
hundred microseconds of Python each: one call instead of four per page).

Every script takes the same first four arguments (`HostQueue._argv`): the key
prefix, the time (ms), LINKWATCH_HOST_CONCURRENCY and LINKWATCH_HOST_DELAY
(ms); its own arguments follow from ARGV[5]. Keys are built inside the scripts
from the prefix, with the names keys.py gives them; this needs one Redis
server, not Redis Cluster.

What a host's politeness is (its limit, its delay, robots.txt and Crawl-delay):
the `politeness` function of COMMON_LUA, described in queue.py.
"""

from __future__ import annotations

from crawler.frontier.bloom import BLOOM_LUA

# What every script starts with: its first four arguments, the key names, and
# the helpers the steps share (politeness, readiness, pushing, ending a lease).
COMMON_LUA = (
    BLOOM_LUA
    + """
local prefix = ARGV[1]
local now = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local delay = tonumber(ARGV[4])
local ready = prefix .. ':ready'
local inflight = prefix .. ':inflight'
local queued = prefix .. ':queued'
local robots = prefix .. ':robots'
local host_delays = prefix .. ':host_delays'
local known = prefix .. ':robots_known'
local not_before = prefix .. ':not_before'

local function queue_of(host) return prefix .. ':q:' .. host end

-- The politeness of a host (a queue): its limit of downloads at once and its
-- delay (ms) after each. Crawl-delay (host_delays, seconds): one at a time, the
-- larger of the two delays. robots.txt not known yet (no field in `robots` and
-- host_known never called): one at a time. Otherwise the crawl's settings.
local function politeness(host)
  local secs = tonumber(redis.call('HGET', host_delays, host) or '')
  if secs and secs > 0 then return 1, math.max(delay, math.floor(secs * 1000)) end
  if limit > 1 and redis.call('HEXISTS', robots, host) == 0
      and redis.call('SISMEMBER', known, host) == 0 then
    return 1, delay
  end
  return limit, delay
end

-- a host with requests and a free slot is ready at `at`, or later if its delay
-- since its last download runs longer (unless it is ready already)
local function maybe_ready(host, at)
  if redis.call('ZSCORE', ready, host) then return end
  if redis.call('LLEN', queue_of(host)) == 0 then return end
  local busy = tonumber(redis.call('HGET', inflight, host) or '0')
  if busy > 0 and busy >= politeness(host) then return end
  local wait = tonumber(redis.call('HGET', not_before, host) or '0')
  if wait > now then
    at = math.max(at, wait)
  elseif wait > 0 then
    redis.call('HDEL', not_before, host)
  end
  redis.call('ZADD', ready, at, host)
end

local function release_host(host)
  if redis.call('HINCRBY', inflight, host, -1) <= 0 then
    redis.call('HDEL', inflight, host)
  end
  local _, wait = politeness(host)
  if wait > 0 then redis.call('HSET', not_before, host, now + wait) end
  maybe_ready(host, now + wait)
end

local function push(host, payload, front)
  if front then
    redis.call('LPUSH', queue_of(host), payload)
  else
    redis.call('RPUSH', queue_of(host), payload)
  end
  redis.call('INCR', queued)
  maybe_ready(host, now)
end

-- close a lease; requeue its request (to the front) when `requeue`
local function end_lease(token, requeue, count_attempt, max_attempts)
  local lease = prefix .. ':lease:' .. token
  if redis.call('ZREM', prefix .. ':leases', token) == 0 then return 0 end
  local d = redis.call('HMGET', lease, 'host', 'payload', 'held')
  redis.call('DEL', lease)
  local host, payload = d[1], d[2]
  if not host then return 0 end
  if d[3] == '1' then release_host(host) end
  local attempts_key = prefix .. ':attempts'
  local digest = redis.sha1hex(payload)
  if not requeue then
    redis.call('HDEL', attempts_key, digest)
    return 1
  end
  if count_attempt then
    if redis.call('HINCRBY', attempts_key, digest, 1) >= max_attempts then
      redis.call('HDEL', attempts_key, digest)
      redis.call('RPUSH', prefix .. ':dead', payload)
      return 1
    end
  end
  push(host, payload, true)
  return 1
end
"""
)

# The steps below as functions, so SYNC_LUA can run several in one call.
STEPS_LUA = (
    COMMON_LUA
    + """
-- ARGV[first..]: `count` groups of (check, h1, h2, host, payload); 1 queued, 0 seen
local function enqueue(first, count)
  local out = {}
  for i = first, first + 5 * (count - 1), 5 do
    local new = 1
    if ARGV[i] == '1' then
      new = bloom_add(prefix .. ':bloom', tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]))
    end
    if new == 1 then push(ARGV[i + 3], ARGV[i + 4], false) end
    out[#out + 1] = new
  end
  return out
end

-- the download of a lease is over: free its host slot (once)
local function release(token)
  local lease = prefix .. ':lease:' .. token
  if redis.call('HGET', lease, 'held') ~= '1' then return 0 end
  redis.call('HSET', lease, 'held', '0')
  release_host(redis.call('HGET', lease, 'host'))
  return 1
end

-- Up to n leases from ready hosts: one per host first, then more from hosts
-- with free slots (and no delay), so one call fills a worker's room.
local function lease(n, ttl, worker)
  local out = {}
  local taken = 0
  local hosts = redis.call('ZRANGEBYSCORE', ready, '-inf', now, 'LIMIT', 0, n)
  local free, wait = {}, {}
  for i, host in ipairs(hosts) do
    redis.call('ZREM', ready, host)
    local busy = tonumber(redis.call('HGET', inflight, host) or '0')
    local host_limit, host_delay = politeness(host)
    free[i] = math.max(0, host_limit - busy)
    wait[i] = host_delay
    if host_delay > 0 then free[i] = math.min(free[i], 1) end
  end
  local more = true
  while more and taken < n do
    more = false
    for i, host in ipairs(hosts) do
      if taken < n and free[i] > 0 then
        local payload = redis.call('LPOP', queue_of(host))
        if payload then
          free[i] = free[i] - 1
          more = more or free[i] > 0
          taken = taken + 1
          redis.call('DECR', queued)
          redis.call('HINCRBY', inflight, host, 1)
          local token = tostring(redis.call('INCR', prefix .. ':lease_seq'))
          redis.call('ZADD', prefix .. ':leases', now + ttl, token)
          redis.call('HSET', prefix .. ':lease:' .. token,
                     'host', host, 'payload', payload, 'held', '1', 'worker', worker)
          out[#out + 1] = token
          out[#out + 1] = host
          out[#out + 1] = payload
        else
          free[i] = 0
        end
      end
    end
  end
  for i, host in ipairs(hosts) do
    if wait[i] > 0 then redis.call('HDEL', not_before, host) end
    maybe_ready(host, now + wait[i])
  end
  local scope = redis.call('GET', prefix .. ':scope') or '0'
  if #out == 0 then
    local first = redis.call('ZRANGE', ready, 0, 0, 'WITHSCORES')
    return {'', first[2] or '', redis.call('GET', queued) or '0', scope}
  end
  out[#out + 1] = scope
  return out
end
"""
)

# ARGV[5..]: groups of (check, h1, h2, host, payload). Returns 1 (queued) or 0 (seen).
ENQUEUE_LUA = STEPS_LUA + "return enqueue(5, (#ARGV - 4) / 5)\n"

# ARGV[5..]: groups of (raw entry, domain, check, h1, h2, host, payload). Takes each
# raw entry out of start_urls and, if it was still there, queues it (payload '' =
# malformed: removed only). Returns how many were queued.
INTAKE_LUA = (
    COMMON_LUA
    + """
local start_urls = prefix .. ':start_urls'
local taken = 0
for i = 5, #ARGV, 7 do
  if redis.call('LREM', start_urls, 1, ARGV[i]) > 0 and ARGV[i + 6] ~= '' then
    if redis.call('SADD', prefix .. ':domains', ARGV[i + 1]) == 1 then
      redis.call('INCR', prefix .. ':scope')
    end
    local new = 1
    if ARGV[i + 2] == '1' then
      new = bloom_add(prefix .. ':bloom', tonumber(ARGV[i + 3]), tonumber(ARGV[i + 4]))
    end
    if new == 1 then push(ARGV[i + 5], ARGV[i + 6], false) end
    taken = taken + 1
  end
end
return taken
"""
)

# ARGV[5]=n, ARGV[6]=ttl ms, ARGV[7]=worker. Returns {token, host, payload, ...,
# scope version}, or {'', next ready time, queued, scope version} when no host is ready.
LEASE_LUA = STEPS_LUA + "return lease(tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7])\n"

# ARGV[5]=token: the download is over, free the host slot.
RELEASE_LUA = STEPS_LUA + "return release(ARGV[5])\n"

# ARGV[5]=mode (ack | giveback | reap), ARGV[6]=max attempts, ARGV[7..]=tokens
# (reap: ARGV[7]=batch size, tokens taken from the expired leases).
END_LUA = (
    COMMON_LUA
    + """
local mode, max_attempts = ARGV[5], tonumber(ARGV[6])
local tokens = {}
if mode == 'reap' then
  tokens = redis.call('ZRANGEBYSCORE', prefix .. ':leases', '-inf', now, 'LIMIT', 0,
                      tonumber(ARGV[7]))
else
  for i = 7, #ARGV do tokens[#tokens + 1] = ARGV[i] end
end
local done = 0
for _, token in ipairs(tokens) do
  done = done + end_lease(token, mode ~= 'ack', mode == 'reap', max_attempts)
end
return done
"""
)

# A worker's round trip: the requests its pages found, the downloads it finished
# and the pages it stored, then new leases, in that order and all at once (a page
# is never acknowledged ahead of its links). ARGV[5..]: push count, its groups
# (as ENQUEUE_LUA), release count, tokens, ack count, tokens, lease n, ttl ms,
# worker. Returns {queued, acked, LEASE_LUA's reply...}, or just
# {queued, acked} when n is 0.
SYNC_LUA = (
    STEPS_LUA
    + """
local i = 5
local pushes = tonumber(ARGV[i])
local queued_new = 0
for _, new in ipairs(enqueue(i + 1, pushes)) do queued_new = queued_new + new end
i = i + 1 + 5 * pushes
local releases = tonumber(ARGV[i])
for j = i + 1, i + releases do release(ARGV[j]) end
i = i + 1 + releases
local acks = tonumber(ARGV[i])
local acked = 0
for j = i + 1, i + acks do acked = acked + end_lease(ARGV[j], false, false, 0) end
i = i + 1 + acks
local n = tonumber(ARGV[i])
if n == 0 then return {queued_new, acked} end
local reply = lease(n, tonumber(ARGV[i + 1]), ARGV[i + 2])
table.insert(reply, 1, acked)
table.insert(reply, 1, queued_new)
return reply
"""
)

# ARGV[5..]: queue keys (hosts, or registered domains) whose robots.txt is now
# known. Each is leased at its full limit from now on, and is ready at once if it
# has queued requests and a free slot (its delays still hold). Returns how many
# became ready.
KNOWN_LUA = (
    COMMON_LUA
    + """
local made = 0
for i = 5, #ARGV do
  local host = ARGV[i]
  if redis.call('HEXISTS', robots, host) == 0 then redis.call('SADD', known, host) end
  if not redis.call('ZSCORE', ready, host) then
    local busy = tonumber(redis.call('HGET', inflight, host) or '0')
    maybe_ready(host, busy > 0 and now + delay or now)
    if redis.call('ZSCORE', ready, host) then made = made + 1 end
  end
end
return made
"""
)

# ARGV[5]=ttl ms, ARGV[6..]=tokens: push deadlines forward (only of leases still open).
EXTEND_LUA = """
local leases = ARGV[1] .. ':leases'
local deadline = tonumber(ARGV[2]) + tonumber(ARGV[5])
local n = 0
for i = 6, #ARGV do
  n = n + redis.call('ZADD', leases, 'XX', 'CH', deadline, ARGV[i])
end
return n
"""


# --- Discovery (expansion.py): the candidates of a shared expansion ------------------
# Their own first ten arguments: the key prefix, the seed-domain SET, the strategy,
# the six weights (discovery.py's signals, then hop) and the hops allowed.
_EXPAND_COMMON = """
local x = ARGV[1] .. ':x:'
local seeds = ARGV[2]
local focused = ARGV[3] == 'focused'
local w = {}
for i, name in ipairs({'referrers', 'cocitation', 'in_degree', 'authority', 'keywords', 'hop'}) do
  w[name] = tonumber(ARGV[3 + i])
end
local max_hops = tonumber(ARGV[10])
local LN2 = math.log(2)

local function hop_of(domain)
  local hop = redis.call('HGET', x .. 'hops', domain)
  if hop then return tonumber(hop) end
  if redis.call('SISMEMBER', seeds, domain) == 1 then return 0 end
  return nil
end

local function rescore(domain)
  local c = x .. 'c:' .. domain
  local order = tonumber(redis.call('HGET', c, 'order'))
  if not focused then
    redis.call('ZADD', x .. 'cand', 'NX', -order, domain)
    return
  end
  local v = -w.hop * tonumber(redis.call('HGET', c, 'hop'))
  for _, name in ipairs({'referrers', 'cocitation', 'in_degree', 'authority', 'keywords'}) do
    if w[name] ~= 0 then
      v = v + w[name] * math.log(1 + tonumber(redis.call('HGET', c, name) or '0')) / LN2
    end
  end
  redis.call('ZADD', x .. 'cand', v - order * 1e-9, domain)
end
"""

# ARGV[11..]: now (ms), source, url, cites (0/1), targets (the page's sites,
# for the cash share), then per admissible site: domain, entry URL, keyword hit.
EXPAND_OBSERVE_LUA = (
    _EXPAND_COMMON
    + """
local now, source, url = tonumber(ARGV[11]), ARGV[12], ARGV[13]
local cites, targets = ARGV[14] == '1', tonumber(ARGV[15])
local hop = hop_of(source)
if not hop then return 0 end
redis.call('ZADD', x .. 'active', 'XX', now, source)
if cites and redis.call('SADD', x .. 'referring', source) == 1 then
  for _, domain in ipairs(redis.call('SMEMBERS', x .. 'outs:' .. source)) do
    if redis.call('SISMEMBER', x .. 'linkers:' .. domain, source) == 1
        and redis.call('EXISTS', x .. 'c:' .. domain) == 1 then
      redis.call('HINCRBY', x .. 'c:' .. domain, 'referrers', 1)
      rescore(domain)
    end
  end
end
local referring = redis.call('SISMEMBER', x .. 'referring', source) == 1
local cash = tonumber(redis.call('HGET', x .. 'cash', source) or '1') / math.max(1, targets)
local added = 0
for i = 16, #ARGV, 3 do
  local domain, entry, kw = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  redis.call('SADD', x .. 'outs:' .. source, domain)
  if hop < max_hops and not hop_of(domain) then
    local c = x .. 'c:' .. domain
    local known = tonumber(redis.call('HGET', c, 'hop') or '-1')
    if known < 0 then
      local order = redis.call('INCR', x .. 'found') - 1
      redis.call('HSET', c, 'hop', hop + 1, 'via', url, 'via_domain', source,
                 'entry', entry, 'order', order)
      added = added + 1
    elseif hop + 1 < known then
      redis.call('HSET', c, 'hop', hop + 1, 'via', url, 'via_domain', source, 'entry', entry)
    end
    if redis.call('SADD', x .. 'linkers:' .. domain, source) == 1 then
      redis.call('HINCRBY', c, 'in_degree', 1)
      if referring then redis.call('HINCRBY', c, 'referrers', 1) end
    end
    if cites then redis.call('HINCRBY', c, 'cocitation', 1) end
    redis.call('HINCRBYFLOAT', c, 'authority', cash)
    if kw == '1' then redis.call('HINCRBY', c, 'keywords', 1) end
    rescore(domain)
  end
end
return added
"""
)

# ARGV[11..]: max_domains, active (sites at once), now (ms), idle (ms). Returns
# the claimed candidate's hash and score, or nil.
EXPAND_CLAIM_LUA = (
    _EXPAND_COMMON
    + """
local max_domains, active, now = tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[13])
redis.call('ZREMRANGEBYSCORE', x .. 'active', '-inf', now - tonumber(ARGV[14]))
-- The limit holds while the frontier has requests waiting: an idle crawl
-- (every site done but not yet quiet for `idle`) takes the next site at once.
local waiting = tonumber(redis.call('GET', ARGV[1] .. ':queued') or '0')
if waiting > 0 and redis.call('ZCARD', x .. 'active') >= active then return nil end
while redis.call('HLEN', x .. 'prov') < max_domains do
  local top = redis.call('ZPOPMAX', x .. 'cand')
  if #top == 0 then return nil end
  local domain, value = top[1], top[2]
  local c = x .. 'c:' .. domain
  if not hop_of(domain) and redis.call('EXISTS', c) == 1 then
    local fields = redis.call('HGETALL', c)
    local record = {}
    for i = 1, #fields, 2 do record[fields[i]] = fields[i + 1] end
    redis.call('HSET', x .. 'hops', domain, record.hop)
    redis.call('HSET', x .. 'cash', domain, 1 + tonumber(record.authority or '0'))
    redis.call('HSET', x .. 'prov', domain, cjson.encode({
      via = record.via, via_domain = record.via_domain,
      hop = tonumber(record.hop), order = tonumber(record.order)}))
    redis.call('DEL', c, x .. 'linkers:' .. domain)
    redis.call('ZADD', x .. 'active', now, domain)
    table.insert(fields, 'score')
    table.insert(fields, value)
    table.insert(fields, 'domain')
    table.insert(fields, domain)
    return fields
  end
end
return nil
"""
)
