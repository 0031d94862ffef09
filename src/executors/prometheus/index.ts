/**
 * PromQL instant queries (GET /api/v1/query) compared with a threshold or with the same query
 * evaluated `offset` earlier (through the `time` parameter). Three outcomes stay apart: every series
 * passes (succeeded), a series does not (failed), or the answer cannot tell (inconclusive: a query
 * error, nothing returned, NaN or Inf, a non-numeric result, Prometheus unreachable), and then a
 * human decides instead of the bot guessing.
 */

// Tested by test/integration/executors/prometheus.test.ts.
import type { Executor, ExecutorContext, StepResult } from '../executor.js';
import { human, sendHttp, statusLine } from '../http-kit.js';
import { excerpt } from '../../lib/text.js';
import { prometheusParams, type PrometheusParams } from './params.js';

export const prometheusExecutor: Executor<PrometheusParams> = {
  kind: 'prometheus',
  description:
    'Runs a PromQL query against a threshold or a baseline: pass, fail, or inconclusive when it cannot tell.',
  params: prometheusParams,
  valuePlaces: { url: 'url', query: 'promql' },
  run: runPrometheus,
};

type Labels = Record<string, string>;
interface Sample {
  labels: Labels;
  value: number;
}
/** A query's samples, or why there is no usable number (inconclusive), or that the step was stopped. */
type QueryResult =
  { kind: 'samples'; samples: Sample[] } | { kind: 'unknown'; detail: string } | { kind: 'stopped' };

interface SeriesOutput {
  labels: Labels;
  value: number;
  baseline?: number;
  passed: boolean;
}

async function runPrometheus(ctx: ExecutorContext, params: PrometheusParams): Promise<StepResult> {
  const limitMs = Math.min(params.timeout, ctx.timeoutMs);
  const started = performance.now();
  const remaining = () => limitMs - (performance.now() - started);
  const nowMs = Date.now();
  const query = (atMs: number, what: string) => instantQuery(ctx, params, atMs, what, remaining, limitMs);
  const stopped: StepResult = {
    outcome: 'failed',
    error: `the Prometheus query was stopped (rollback cancelled or bot shutting down)`,
  };

  if (params.threshold) {
    const current = await query(nowMs, 'query');
    if (current.kind === 'stopped') return stopped;
    if (current.kind === 'unknown') return { outcome: 'inconclusive', detail: current.detail };
    return compareThreshold(params, params.threshold, current.samples);
  }
  const baseline = params.baseline!;
  const [current, before] = await Promise.all([
    query(nowMs, 'query'),
    query(nowMs - baseline.offset, `baseline query (${human(baseline.offset)} ago)`),
  ]);
  if (current.kind === 'stopped' || before.kind === 'stopped') return stopped;
  if (current.kind === 'unknown') return { outcome: 'inconclusive', detail: current.detail };
  if (before.kind === 'unknown') return { outcome: 'inconclusive', detail: before.detail };
  return compareBaseline(params, baseline, current.samples, before.samples);
}

async function instantQuery(
  ctx: ExecutorContext,
  params: PrometheusParams,
  atMs: number,
  what: string,
  remaining: () => number,
  limitMs: number,
): Promise<QueryResult> {
  const search = new URLSearchParams({ query: params.query, time: (atMs / 1000).toFixed(3) });
  const url = `${params.url.replace(/\/+$/, '')}/api/v1/query?${search.toString()}`;
  ctx.log.line(`${what}: ${params.query} at ${new Date(atMs).toISOString()}`);
  const outcome = await sendHttp({
    method: 'GET',
    url,
    headers: { accept: 'application/json' },
    signal: ctx.signal,
    timeoutMs: remaining(),
  });
  const unknown = (detail: string): QueryResult => ({ kind: 'unknown', detail });
  switch (outcome.kind) {
    case 'aborted':
      return { kind: 'stopped' };
    case 'timeout':
      return unknown(`Prometheus did not answer the ${what} within ${human(limitMs)}`);
    case 'no-answer':
      return unknown(`Prometheus could not be reached for the ${what}: ${outcome.error}`);
    case 'answer':
      break;
  }
  ctx.log.line(`→ ${statusLine(outcome.status, outcome.statusText)} (${outcome.durationMs} ms)`);
  let body: unknown;
  try {
    body = JSON.parse(outcome.text);
  } catch {
    body = undefined;
  }
  const answer = isRecord(body) ? body : undefined;
  if (answer?.['status'] === 'error') {
    const type = typeof answer['errorType'] === 'string' ? ` (${answer['errorType']})` : '';
    const error = typeof answer['error'] === 'string' ? `: ${excerpt(answer['error'])}` : '';
    return unknown(`Prometheus refused the ${what}${type}${error}`);
  }
  if (outcome.status < 200 || outcome.status >= 300) {
    const text = outcome.text.trim() ? `: ${excerpt(outcome.text)}` : '';
    return unknown(`Prometheus answered the ${what} with ${outcome.status}${text}`);
  }
  if (answer?.['status'] !== 'success' || !isRecord(answer['data'])) {
    return unknown(`Prometheus's answer to the ${what} is not a query result: ${excerpt(outcome.text)}`);
  }
  return samplesOf(answer['data'], what);
}

function samplesOf(data: Record<string, unknown>, what: string): QueryResult {
  const unknown = (detail: string): QueryResult => ({ kind: 'unknown', detail });
  const type = data['resultType'];
  const result = data['result'];
  let raw: { labels: Labels; value: unknown }[];
  if (type === 'scalar') {
    raw = [{ labels: {}, value: secondOf(result) }];
  } else if (type === 'vector' && Array.isArray(result)) {
    raw = result.map((item: unknown) => ({
      labels: isRecord(item) && isRecord(item['metric']) ? (item['metric'] as Labels) : {},
      value: isRecord(item) ? secondOf(item['value']) : undefined,
    }));
  } else if (type === 'matrix') {
    return unknown(
      `the ${what} returns a range vector; write an instant query (e.g. rate(x[5m]), not x[5m])`,
    );
  } else {
    return unknown(`the ${what} returns a ${String(type)}, not a number`);
  }
  if (raw.length === 0) return unknown(`the ${what} returned nothing (no series matched)`);
  const samples: Sample[] = [];
  for (const { labels, value } of raw) {
    const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
    if (!Number.isFinite(number)) {
      return unknown(
        `the ${what} returned ${JSON.stringify(value ?? null)} for ${seriesName(labels)}, not a number`,
      );
    }
    samples.push({ labels, value: number });
  }
  return { kind: 'samples', samples };
}

function compareThreshold(
  params: PrometheusParams,
  threshold: NonNullable<PrometheusParams['threshold']>,
  samples: Sample[],
): StepResult {
  const label = params.label ?? 'value';
  const series: SeriesOutput[] = samples.map((s) => ({
    ...s,
    passed: compare(s.value, threshold.op, threshold.value),
  }));
  // The series closest to failing (or failing most) stands for the whole result.
  const higherIsWorse = threshold.op === '<' || threshold.op === '<=';
  const worst = series.reduce((a, b) => ((higherIsWorse ? b.value > a.value : b.value < a.value) ? b : a));
  const output = { value: worst.value, series };
  const failing = series.filter((s) => !s.passed);
  const of = (s: SeriesOutput) => (series.length > 1 ? ` of ${seriesName(s.labels)}` : '');
  if (failing.length > 0) {
    const which = failing.map(
      (s) => `${label}${of(s)} ${fmt(s.value)} ${relation(s.value, threshold.value)} ${fmt(threshold.value)}`,
    );
    const count = series.length > 1 ? `${failing.length} of ${series.length} series fail; ` : '';
    return {
      outcome: 'failed',
      error: `${which.join(', ')} (${count}passes when ${threshold.op} ${fmt(threshold.value)})`,
      output,
    };
  }
  const all = series.length > 1 ? `all ${series.length} series pass; worst: ` : '';
  return {
    outcome: 'succeeded',
    output,
    summary: `${all}${label}${of(worst)} ${fmt(worst.value)} ${threshold.op} ${fmt(threshold.value)}`,
  };
}

function compareBaseline(
  params: PrometheusParams,
  baseline: NonNullable<PrometheusParams['baseline']>,
  current: Sample[],
  before: Sample[],
): StepResult {
  const label = params.label ?? 'value';
  const ago = `${human(baseline.offset)} ago`;
  const earlier = new Map(before.map((s) => [seriesKey(s.labels), s.value]));
  const series: (SeriesOutput & { increase: number })[] = [];
  for (const s of current) {
    const base = earlier.get(seriesKey(s.labels));
    const name = current.length > 1 ? ` of ${seriesName(s.labels)}` : '';
    if (base === undefined) {
      return {
        outcome: 'inconclusive',
        detail: `${label}${name} has no baseline: the query returned no such series ${ago}`,
      };
    }
    if (base === 0 && s.value !== 0) {
      return {
        outcome: 'inconclusive',
        detail: `${label}${name} is ${fmt(s.value)} and was 0 ${ago}: an increase over a zero baseline has no ratio`,
      };
    }
    const increase = base === 0 ? 0 : (s.value - base) / Math.abs(base);
    series.push({ ...s, baseline: base, increase, passed: increase <= baseline.maxIncrease });
  }
  const worst = series.reduce((a, b) => (b.increase > a.increase ? b : a));
  const output = {
    value: worst.value,
    baseline: worst.baseline,
    series: series.map(({ increase: _increase, ...s }) => s),
  };
  const describe = (s: (typeof series)[number]) =>
    `${label}${series.length > 1 ? ` of ${seriesName(s.labels)}` : ''} ${fmt(s.value)} vs ${fmt(s.baseline!)} ${ago} (${percent(s.increase)})`;
  const limit = `at most ${percent(baseline.maxIncrease)}`;
  const failing = series.filter((s) => !s.passed);
  if (failing.length > 0) {
    const count = series.length > 1 ? `${failing.length} of ${series.length} series fail; ` : '';
    return { outcome: 'failed', error: `${failing.map(describe).join(', ')} (${count}${limit})`, output };
  }
  const all = series.length > 1 ? `all ${series.length} series pass; worst: ` : '';
  return { outcome: 'succeeded', output, summary: `${all}${describe(worst)}, ${limit}` };
}

function compare(value: number, op: '<' | '<=' | '>' | '>=', threshold: number): boolean {
  switch (op) {
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
  }
}

function relation(value: number, threshold: number): string {
  if (value > threshold) return '>';
  return value < threshold ? '<' : '=';
}

/** 0.083, 1234.5, 1.235e-7: four significant digits, no trailing zeros. */
function fmt(value: number): string {
  return String(Number(value.toPrecision(4)));
}

function percent(ratio: number): string {
  const text = `${fmt(ratio * 100)}%`;
  return ratio >= 0 ? `+${text}` : text;
}

/** `{code="500", job="api"}` as PromQL writes a series; `{}` for one without labels. */
function seriesName(labels: Labels): string {
  const parts = Object.keys(labels)
    .sort()
    .map((name) => `${name}="${labels[name]}"`);
  return `{${parts.join(', ')}}`;
}

function seriesKey(labels: Labels): string {
  return seriesName(labels);
}

/** The value of a `[<unix time>, "<number>"]` pair. */
function secondOf(pair: unknown): unknown {
  return Array.isArray(pair) ? (pair as unknown[])[1] : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
