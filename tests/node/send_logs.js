// Sends log lines to vigil with official client libraries, as a real
// application would: winston + winston-loki (Loki push, JSON or snappy
// protobuf) or the OpenTelemetry JS SDK's OTLP/HTTP log exporters (JSON or
// protobuf). Usage: node send_logs.js MODE BASE_URL SERVICE COUNT
//   MODE: loki-json | loki-proto | otlp-json | otlp-proto
// Lines cycle through three kinds of event with varying values, so the
// receiver can be checked for templates as well as for the lines.
'use strict';

const [mode, base, service, countArg] = process.argv.slice(2);
const count = Number(countArg || 30);
if (!mode || !base || !service) {
  console.error('usage: node send_logs.js MODE BASE_URL SERVICE COUNT');
  process.exit(2);
}

function line(i) {
  const users = ['alice', 'bob', 'carol', 'dave', 'erin'];
  switch (i % 3) {
    case 0: return `payment gateway timeout after ${1000 + i * 7}ms for order o-${100 + i}`;
    case 1: return `user ${users[i % users.length]} logged in from 10.0.${i % 7}.${i}`;
    default: return `cache miss ratio ${(i % 10) / 10} on shard ${i % 4}`;
  }
}

async function viaLoki(json) {
  const winston = require('winston');
  const LokiTransport = require('winston-loki');
  let failed = null;
  const transport = new LokiTransport({
    host: base, json, batching: true, interval: 0.2, labels: { service, via: json ? 'loki-json' : 'loki-proto' },
    onConnectionError: (e) => { failed = e; },
  });
  const logger = winston.createLogger({ transports: [transport] });
  for (let i = 0; i < count; i++) logger.log({ level: i % 3 === 0 ? 'error' : 'info', message: line(i) });
  await new Promise((r) => setTimeout(r, 1500));
  await transport.flush();
  logger.close();
  if (failed) throw failed;
}

async function viaOtlp(proto) {
  const { LoggerProvider, SimpleLogRecordProcessor } = require('@opentelemetry/sdk-logs');
  const { OTLPLogExporter } = require(proto ? '@opentelemetry/exporter-logs-otlp-proto' : '@opentelemetry/exporter-logs-otlp-http');
  const { Resource } = require('@opentelemetry/resources');
  const provider = new LoggerProvider({ resource: new Resource({ 'service.name': service }) });
  const exporter = new OTLPLogExporter({ url: `${base}/v1/logs` });
  let failed = null;
  const origExport = exporter.export.bind(exporter);
  exporter.export = (records, done) => origExport(records, (result) => {
    if (result.code !== 0) failed = result.error || new Error('export failed');
    done(result);
  });
  provider.addLogRecordProcessor(new SimpleLogRecordProcessor(exporter));
  const logger = provider.getLogger('vigil-test', '1.0.0');
  for (let i = 0; i < count; i++) {
    logger.emit({ severityNumber: i % 3 === 0 ? 17 : 9, severityText: i % 3 === 0 ? 'ERROR' : 'INFO', body: line(i),
                  attributes: { i } });
  }
  await provider.forceFlush();
  await provider.shutdown();
  if (failed) throw failed;
}

const run = { 'loki-json': () => viaLoki(true), 'loki-proto': () => viaLoki(false),
              'otlp-json': () => viaOtlp(false), 'otlp-proto': () => viaOtlp(true) }[mode];
if (!run) {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
run().then(() => { console.log(`sent ${count} lines via ${mode}`); process.exit(0); },
           (e) => { console.error(`send failed via ${mode}: ${e && e.stack || e}`); process.exit(1); });
