-- wrk script: POST the body in $BENCH_BODY_FILE, and print the figures as one JSON line for bench/run.js.
local f = assert(io.open(os.getenv('BENCH_BODY_FILE'), 'rb'))
wrk.method = 'POST'
wrk.body = f:read('*a')
f:close()
wrk.headers['content-type'] = 'application/json'

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"durationUs":%d,"bytes":%d,"connectErrors":%d,"readErrors":%d,"writeErrors":%d,"statusErrors":%d,"timeouts":%d,' ..
    '"p50Us":%d,"p90Us":%d,"p99Us":%d,"maxUs":%d,"meanUs":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
