-- wrk prints its summary rounded to two digits (1.02GB, 1.23ms); this adds one exact line the
-- harness reads: request count, bytes, duration and latency percentiles in microseconds.
-- Only done() and resolve are defined, so wrk's fast C request path stays in use.

-- Every server of the bench listens on 127.0.0.1, so wrk connects there whatever the URL's host
-- name. That name still goes into SNI (wrk sends the URL's host), which lets the HTTPS scenario
-- use https://bench.home.arpa:PORT/ without /etc/hosts: wrk has no --resolve or --connect-to.
wrk.resolve = function(host, service)
  wrk.addrs = wrk.lookup("127.0.0.1", service)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"bytes":%d,"durationUs":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latencyUs":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.bytes, summary.duration,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
