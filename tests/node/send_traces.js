// Sends planned traces to vigil with official client libraries, as real
// services would: the OpenTelemetry JS SDK (sdk-trace-base) with its
// OTLP/HTTP exporters (JSON or protobuf), or zipkin-js with
// zipkin-transport-http (Zipkin v2 JSON). One tracer per service instance,
// spans linked through the SDK's own context propagation (OTel) or
// trace-id joins (Zipkin: the server half of an RPC joins the client's id,
// a shared span). Times are taken from the plan, so a test can lay out
// minutes of traffic in a second; the exporters are flushed every
// plan.flush_every_ms of span time (default 5000, the OTel batch
// processor's schedule), so that spans reach the receiver in the order and
// grouping a live system's exporters would give them.
// Usage: node send_traces.js MODE BASE_URL PLAN.json
//   MODE: otlp-json | otlp-proto | zipkin
//   PLAN: {"traces": [{"spans": [{"parent": index|null, "service", "pod", "name",
//          "kind": "server"|"client"|"internal", "start_ms", "duration_ms",
//          "error": bool, "http_status": n|null, "peer": "postgres"|null, "attrs": {}}]}]}
'use strict';

const fs = require('fs');

const [mode, base, planFile] = process.argv.slice(2);
if (!mode || !base || !planFile) {
  console.error('usage: node send_traces.js MODE BASE_URL PLAN.json');
  process.exit(2);
}
const plan = JSON.parse(fs.readFileSync(planFile, 'utf8'));
const flushEvery = plan.flush_every_ms || 5000;

async function viaOtel(proto) {
  const api = require('@opentelemetry/api');
  const { BasicTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
  const { OTLPTraceExporter } = require(proto ? '@opentelemetry/exporter-trace-otlp-proto' : '@opentelemetry/exporter-trace-otlp-http');
  const { Resource } = require('@opentelemetry/resources');
  const providers = new Map();
  let failed = null;
  let exported = 0;
  function tracerFor(service, pod) {
    const key = `${service}/${pod}`;
    if (!providers.has(key)) {
      const provider = new BasicTracerProvider({
        resource: new Resource({ 'service.name': service, 'k8s.pod.name': pod, 'service.version': '1.0.0' }),
      });
      const exporter = new OTLPTraceExporter({ url: `${base}/v1/traces` });
      const origExport = exporter.export.bind(exporter);
      exporter.export = (spans, done) => origExport(spans, (result) => {
        if (result.code !== 0) failed = result.error || new Error('export failed');
        else exported += spans.length;
        done(result);
      });
      provider.addSpanProcessor(new BatchSpanProcessor(exporter, { maxExportBatchSize: 256, scheduledDelayMillis: 100,
                                                                   maxQueueSize: 100000 }));
      providers.set(key, provider);
    }
    return providers.get(key).getTracer('vigil-test', '1.0.0');
  }
  const kinds = { server: api.SpanKind.SERVER, client: api.SpanKind.CLIENT, internal: api.SpanKind.INTERNAL };
  let total = 0;
  let batchStart = null;
  for (const tr of plan.traces) {
    const t = tr.spans[0].start_ms;
    if (batchStart === null) batchStart = t;
    if (t - batchStart >= flushEvery) {
      for (const p of providers.values()) await p.forceFlush();
      batchStart = t;
    }
    const made = [];
    for (const s of tr.spans) {
      const ctx = s.parent === null ? api.ROOT_CONTEXT : api.trace.setSpan(api.ROOT_CONTEXT, made[s.parent]);
      const attributes = Object.assign({}, s.attrs || {});
      if (s.http_status) attributes['http.response.status_code'] = s.http_status;
      if (s.peer) attributes['peer.service'] = s.peer;
      const span = tracerFor(s.service, s.pod).startSpan(s.name, { kind: kinds[s.kind], startTime: s.start_ms, attributes }, ctx);
      if (s.error) span.setStatus({ code: api.SpanStatusCode.ERROR, message: s.error_message || 'failed' });
      made.push(span);
    }
    // End children before parents, as a real call stack does.
    for (let i = tr.spans.length - 1; i >= 0; i--) made[i].end(tr.spans[i].start_ms + tr.spans[i].duration_ms);
    total += tr.spans.length;
  }
  for (const p of providers.values()) await p.forceFlush();
  for (const p of providers.values()) await p.shutdown();
  if (failed) throw failed;
  if (exported !== total) throw new Error(`exported ${exported} of ${total} spans`);
  return total;
}

async function viaZipkin() {
  const { Tracer, BatchRecorder, ExplicitContext, Annotation, InetAddress, jsonEncoder } = require('zipkin');
  const { HttpLogger } = require('zipkin-transport-http');
  const fetch = require('node-fetch');
  const tracers = new Map();
  const loggers = [];
  let failed = null;
  let pending = 0;
  // Counts the POSTs in flight (the logger empties its queue as it posts).
  const countingFetch = (url, opts) => {
    pending += 1;
    return fetch(url, opts).finally(() => { pending -= 1; });
  };
  function tracerFor(service, pod) {
    const key = `${service}/${pod}`;
    if (!tracers.has(key)) {
      const logger = new HttpLogger({ endpoint: `${base}/api/v2/spans`, jsonEncoder: jsonEncoder.JSON_V2,
                                      httpInterval: 100, timeout: 5000,
                                      fetchImplementation: countingFetch });
      logger.on('error', (e) => { failed = e; });
      loggers.push(logger);
      const tracer = new Tracer({ ctxImpl: new ExplicitContext(), recorder: new BatchRecorder({ logger, timeout: 60e6 }),
                                  localServiceName: service, traceId128Bit: true, log: { info() {}, warn() {}, error() {} } });
      tracers.set(key, { tracer, ip: pod });
    }
    return tracers.get(key);
  }
  let total = 0;
  let batchStart = null;
  for (const tr of plan.traces) {
    const t = tr.spans[0].start_ms;
    if (batchStart === null) batchStart = t;
    if (t - batchStart >= flushEvery) {  // let the loggers post what they hold
      await new Promise((r) => setTimeout(r, 150));
      batchStart = t;
    }
    const ids = [];
    for (const s of tr.spans) {
      const { tracer, ip } = tracerFor(s.service, s.pod);
      let id;
      if (s.parent === null) id = tracer.createRootId();
      else if (s.kind === 'server' && tr.spans[s.parent].kind === 'client') id = tracer.join(ids[s.parent]);
      else id = tracer.createChildId(ids[s.parent]);
      ids.push(id);
      const t0 = Math.round(s.start_ms * 1000), t1 = Math.round((s.start_ms + s.duration_ms) * 1000);
      tracer.setId(id);
      tracer.recordServiceName(s.service);
      tracer.recordRpc(s.name);
      tracer.recordAnnotation(new Annotation.LocalAddr({ host: new InetAddress(ip) }), t0);
      if (s.peer) tracer.recordAnnotation(new Annotation.ServerAddr({ serviceName: s.peer }), t0);
      for (const [k, v] of Object.entries(s.attrs || {})) tracer.recordBinary(k, String(v));
      if (s.http_status) tracer.recordBinary('http.status_code', String(s.http_status));
      if (s.error) tracer.recordBinary('error', s.error_message || 'failed');
      if (s.kind === 'server') {
        tracer.recordAnnotation(new Annotation.ServerRecv(), t0);
        tracer.recordAnnotation(new Annotation.ServerSend(), t1);
      } else if (s.kind === 'client') {
        tracer.recordAnnotation(new Annotation.ClientSend(), t0);
        tracer.recordAnnotation(new Annotation.ClientRecv(), t1);
      } else {
        tracer.recordAnnotation(new Annotation.LocalOperationStart(s.name), t0);
        tracer.recordAnnotation(new Annotation.LocalOperationStop(), t1);
      }
      total += 1;
    }
  }
  // HttpLogger posts its queue every httpInterval ms; wait until all drained.
  const deadline = Date.now() + 20000;
  while ((pending > 0 || loggers.some((l) => l.queue.length > 0)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  if (failed) throw failed;
  if (loggers.some((l) => l.queue.length > 0)) throw new Error('zipkin spans not all sent');
  return total;
}

(async () => {
  let n;
  if (mode === 'otlp-json') n = await viaOtel(false);
  else if (mode === 'otlp-proto') n = await viaOtel(true);
  else if (mode === 'zipkin') n = await viaZipkin();
  else throw new Error(`unknown mode ${mode}`);
  console.log(`${mode}: sent ${n} spans`);
})().catch((e) => {
  console.error(`${mode}: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
