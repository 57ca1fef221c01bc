// A small, strict reader of Prometheus's text exposition format 0.0.4, written from the spec
// (https://prometheus.io/docs/instrumenting/exposition_formats/) for the tests: it refuses what the
// format does not allow (a sample before its family's TYPE, a family split in two, an unknown
// escape, a duplicate series, a missing final newline) instead of guessing.

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParsedFamily {
  name: string;
  help: string | null;
  type: string | null;
  samples: ParsedSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const FLOAT = /^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)$/;

function fail(lineNo: number, line: string, why: string): never {
  throw new Error(`line ${lineNo}: ${why}: ${JSON.stringify(line)}`);
}

function unescapeHelp(text: string, lineNo: number, line: string): string {
  return text.replace(/\\(.)?/g, (_, c: string | undefined) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    return fail(lineNo, line, `\\${c ?? ''} is not an escape HELP allows`);
  });
}

function parseValue(text: string, lineNo: number, line: string): number {
  if (text === 'NaN') return NaN;
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (!FLOAT.test(text)) fail(lineNo, line, `"${text}" is not a value`);
  return Number(text);
}

function parseLabels(rest: string, lineNo: number, line: string): { labels: Record<string, string>; after: string } {
  const labels: Record<string, string> = {};
  let s = rest.slice(1); // past "{"
  if (s.startsWith('}')) return { labels, after: s.slice(1) };
  for (;;) {
    const name = LABEL_NAME.exec(s)?.[0];
    if (!name) fail(lineNo, line, 'a label name was expected');
    if (Object.hasOwn(labels, name)) fail(lineNo, line, `the label ${name} is given twice`);
    s = s.slice(name.length);
    if (!s.startsWith('="')) fail(lineNo, line, `${name} must be followed by ="`);
    s = s.slice(2);
    let value = '';
    for (;;) {
      const c = s[0];
      if (c === undefined) fail(lineNo, line, 'a label value is not closed');
      if (c === '"') break;
      if (c === '\n') fail(lineNo, line, 'a raw newline in a label value');
      if (c === '\\') {
        const e = s[1];
        if (e === '\\') value += '\\';
        else if (e === '"') value += '"';
        else if (e === 'n') value += '\n';
        else fail(lineNo, line, `\\${e ?? ''} is not an escape a label value allows`);
        s = s.slice(2);
        continue;
      }
      value += c;
      s = s.slice(1);
    }
    labels[name] = value;
    s = s.slice(1); // past the closing quote
    if (s.startsWith('}')) return { labels, after: s.slice(1) };
    if (!s.startsWith(',')) fail(lineNo, line, 'labels are separated by commas');
    s = s.slice(1);
  }
}

/** The sample name's family: itself, or a summary's/histogram's base for _sum, _count, _bucket. */
function familyOf(name: string, families: Map<string, ParsedFamily>): string {
  for (const suffix of ['_sum', '_count', '_bucket']) {
    if (name.endsWith(suffix)) {
      const base = families.get(name.slice(0, -suffix.length));
      if (base && (base.type === 'summary' || base.type === 'histogram')) return base.name;
    }
  }
  return name;
}

/** Parses an exposition strictly; throws with the line number on anything the format does not allow. */
export function parsePrometheusText(text: string): Map<string, ParsedFamily> {
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const families = new Map<string, ParsedFamily>();
  const closed = new Set<string>();
  const series = new Set<string>();
  let current: string | null = null;
  const enter = (name: string, lineNo: number, line: string): ParsedFamily => {
    if (current !== name) {
      if (current !== null) closed.add(current);
      if (closed.has(name)) fail(lineNo, line, `the family ${name} appears in two places`);
      current = name;
    }
    let family = families.get(name);
    if (!family) families.set(name, (family = { name, help: null, type: null, samples: [] }));
    return family;
  };
  const lines = text.split('\n').slice(0, -1);
  lines.forEach((line, index) => {
    const lineNo = index + 1;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const meta = /^# (HELP|TYPE) ([^ ]+)(?: (.*))?$/.exec(line);
      if (!meta) return; // a plain comment
      const [, kind, name, rest = ''] = meta as unknown as [string, string, string, string | undefined];
      if (!NAME.test(name) || NAME.exec(name)![0] !== name) fail(lineNo, line, `"${name}" is not a metric name`);
      const family = enter(name, lineNo, line);
      if (kind === 'HELP') {
        if (family.help !== null) fail(lineNo, line, 'a second HELP');
        family.help = unescapeHelp(rest, lineNo, line);
      } else {
        if (family.type !== null) fail(lineNo, line, 'a second TYPE');
        if (family.samples.length > 0) fail(lineNo, line, 'TYPE after the first sample');
        if (!TYPES.has(rest)) fail(lineNo, line, `"${rest}" is not a metric type`);
        family.type = rest;
      }
      return;
    }
    const name = NAME.exec(line)?.[0];
    if (!name) fail(lineNo, line, 'a sample starts with a metric name');
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, after: rest } = parseLabels(rest, lineNo, line));
    const parts = rest.split(' ');
    if (parts[0] !== '' || parts.length < 2 || parts.length > 3) fail(lineNo, line, 'a sample is NAME{LABELS} VALUE [TIMESTAMP]');
    const value = parseValue(parts[1]!, lineNo, line);
    if (parts[2] !== undefined && !/^-?\d+$/.test(parts[2])) fail(lineNo, line, 'a timestamp is an integer (ms)');
    const familyName = familyOf(name, families);
    const family = enter(familyName, lineNo, line);
    if (family.type === 'summary' && name === familyName && labels.quantile === undefined) fail(lineNo, line, 'a summary quantile needs its quantile label');
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (series.has(key)) fail(lineNo, line, 'the same series twice');
    series.add(key);
    family.samples.push({ name, labels, value });
  });
  return families;
}

/** The value of the one sample of `name` whose labels include `labels`; throws when there is not exactly one. */
export function sampleValue(families: Map<string, ParsedFamily>, name: string, labels: Record<string, string> = {}): number {
  const found = [...families.values()]
    .flatMap((family) => family.samples)
    .filter((sample) => sample.name === name && Object.entries(labels).every(([k, v]) => sample.labels[k] === v));
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name}${JSON.stringify(labels)}`);
  return found[0]!.value;
}
