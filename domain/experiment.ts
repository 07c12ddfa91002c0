// Experiments: what a marketer defines (variants, metric, policy options) and the rules a definition must meet.
import { METRICS, type Metric } from './counting';
import { ValidationError } from './errors';
import { ID_PATTERN } from './tenant';

export type { Metric } from './counting';
export type ExperimentStatus = 'running' | 'paused' | 'finished';
export type VariantState = 'active' | 'retired';

export interface Variant {
  readonly id: string;
  readonly text: string;
  readonly parts: Readonly<Record<string, string>>;
  readonly control: boolean;
  readonly state: VariantState;
}

export interface PolicyOptions {
  /** Burn-in: equal shares until every active variant has this many sends. */
  readonly min_sends: number;
  /** Minimum traffic share of each active variant once burn-in is over (0 = off; floors cost clicks). */
  readonly floor: number;
  /** Fixed traffic share of the control variant, when one is marked. */
  readonly control_share: number;
  /** Evidence older than this counts half as much (always-on campaigns); null = no decay. */
  readonly half_life_hours: number | null;
  /** How often a warm container recomputes the allocation from the counters. */
  readonly refresh_seconds: number;
  /**
   * Shares follow P(best) raised to this power (1: plain Thompson sampling, as DESIGN §5 says; higher moves
   * traffic to the likely best sooner). Absent in experiments stored before it existed: read as the default.
   */
  readonly share_exponent: number;
  /** Finish automatically once a variant is confidently best. */
  readonly auto_finish: boolean;
}

export interface Experiment {
  readonly tenantId: string;
  readonly id: string;
  readonly name: string;
  readonly metric: Metric;
  readonly status: ExperimentStatus;
  readonly winner: string | null;
  readonly variants: readonly Variant[];
  readonly options: PolicyOptions;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Optimistic-concurrency version, bumped on every write. */
  readonly version: number;
}

export const DEFAULT_OPTIONS: PolicyOptions = {
  min_sends: 100,
  floor: 0,
  control_share: 0.1,
  half_life_hours: null,
  refresh_seconds: 5,
  share_exponent: 1,
  auto_finish: false,
};

interface NumberRange {
  readonly min: number;
  readonly max: number;
  readonly integer?: boolean;
  readonly nullable?: boolean;
}

export const OPTION_RANGES: Record<Exclude<keyof PolicyOptions, 'auto_finish'>, NumberRange> = {
  min_sends: { min: 0, max: 1_000_000, integer: true },
  floor: { min: 0, max: 0.2 },
  control_share: { min: 0.01, max: 0.5 },
  half_life_hours: { min: 1, max: 8760, nullable: true },
  refresh_seconds: { min: 1, max: 300, integer: true },
  share_exponent: { min: 1, max: 4 },
};

export const LIMITS = {
  minActiveVariants: 2,
  maxActiveVariants: 20,
  maxVariantsIncludingRetired: 100,
  /** Stored size of a definition, retired variants included: under DynamoDB's 400 KB item limit, and what bounds each container's cache of it. */
  maxStoredBytes: 300 * 1024,
  maxTextLength: 2000,
  maxNameLength: 200,
  maxParts: 10,
  partKey: /^[a-z0-9_]{1,32}$/,
} as const;

export function validateExperimentId(id: unknown, field = 'experiment'): string {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw new ValidationError(field, 'must be 1-64 characters of a-z, 0-9, _ or -');
  }
  return id;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkText(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string') throw new ValidationError(field, 'must be a string');
  if (value.length < 1 || value.length > max) throw new ValidationError(field, `must be 1-${max} characters`);
  return value;
}

function checkVariant(raw: unknown, index: number): Omit<Variant, 'state'> {
  const field = `variants[${index}]`;
  if (!isRecord(raw)) throw new ValidationError(field, 'must be an object with id and text');
  const id = raw.id;
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw new ValidationError(`${field}.id`, 'must be 1-64 characters of a-z, 0-9, _ or -');
  }
  const text = checkText(raw.text, `${field}.text`, LIMITS.maxTextLength);
  const parts: Record<string, string> = {};
  if (raw.parts !== undefined && raw.parts !== null) {
    if (!isRecord(raw.parts)) throw new ValidationError(`${field}.parts`, 'must be an object of strings');
    const entries = Object.entries(raw.parts);
    if (entries.length > LIMITS.maxParts)
      throw new ValidationError(`${field}.parts`, `at most ${LIMITS.maxParts} parts`);
    for (const [key, value] of entries) {
      if (!LIMITS.partKey.test(key)) {
        throw new ValidationError(
          `${field}.parts`,
          `key "${key.slice(0, 40)}" must be 1-32 characters of a-z, 0-9 or _`,
        );
      }
      parts[key] = checkText(value, `${field}.parts.${key}`, LIMITS.maxTextLength);
    }
  }
  if (raw.control !== undefined && typeof raw.control !== 'boolean') {
    throw new ValidationError(`${field}.control`, 'must be true or false');
  }
  return { id, text, parts, control: raw.control === true };
}

function checkOptions(body: Record<string, unknown>, previous: PolicyOptions): PolicyOptions {
  const options: Record<string, unknown> = { ...previous };
  for (const [key, range] of Object.entries(OPTION_RANGES)) {
    const value = body[key];
    if (value === undefined) continue;
    if (value === null && range.nullable) {
      options[key] = null;
      continue;
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || value < range.min || value > range.max) {
      throw new ValidationError(
        key,
        `must be a number from ${range.min} to ${range.max}${range.nullable ? ' or null' : ''}`,
      );
    }
    if (range.integer && !Number.isInteger(value)) throw new ValidationError(key, 'must be a whole number');
    options[key] = value;
  }
  if (body.auto_finish !== undefined) {
    if (typeof body.auto_finish !== 'boolean')
      throw new ValidationError('auto_finish', 'must be true or false');
    options.auto_finish = body.auto_finish;
  }
  return options as unknown as PolicyOptions;
}

const KNOWN_KEYS = new Set(['name', 'metric', 'variants', 'id', ...Object.keys(DEFAULT_OPTIONS)]);

/**
 * Validates a create-or-update body and merges it with the stored experiment. Variants left out of the list
 * are retired (kept for reports, never served again); listed ones are active, new ones join.
 */
export function defineExperiment(
  tenantId: string,
  id: string,
  body: unknown,
  existing: Experiment | null,
  now: number,
): Experiment {
  validateExperimentId(id);
  if (!isRecord(body)) throw new ValidationError('body', 'must be a JSON object');
  for (const key of Object.keys(body)) {
    if (!KNOWN_KEYS.has(key)) throw new ValidationError(key.slice(0, 64), 'is not a known experiment field');
  }
  if (body.id !== undefined && body.id !== id)
    throw new ValidationError('id', 'must match the id in the URL');
  const name =
    body.name === undefined ? (existing?.name ?? id) : checkText(body.name, 'name', LIMITS.maxNameLength);
  const metric = (body.metric ?? existing?.metric ?? 'clicks') as Metric;
  if (!METRICS.includes(metric))
    throw new ValidationError('metric', `must be one of ${METRICS.map((m) => `"${m}"`).join(', ')}`);
  if (existing && metric !== existing.metric) {
    throw new ValidationError(
      'metric',
      'cannot change once the experiment exists (counts would mix metrics)',
    );
  }
  if (!Array.isArray(body.variants)) throw new ValidationError('variants', 'must be a list of 2-20 variants');
  if (body.variants.length < LIMITS.minActiveVariants || body.variants.length > LIMITS.maxActiveVariants) {
    throw new ValidationError(
      'variants',
      `must list ${LIMITS.minActiveVariants}-${LIMITS.maxActiveVariants} active variants (got ${body.variants.length})`,
    );
  }
  const listed = body.variants.map(checkVariant);
  const seen = new Set<string>();
  for (const variant of listed) {
    if (seen.has(variant.id))
      throw new ValidationError('variants', `variant id "${variant.id}" appears twice`);
    seen.add(variant.id);
  }
  if (listed.filter((v) => v.control).length > 1)
    throw new ValidationError('variants', 'at most one variant can be the control');
  const retired = (existing?.variants ?? [])
    .filter((v) => !seen.has(v.id))
    .map((v) => ({ ...v, state: 'retired' as const }));
  const variants: Variant[] = [...listed.map((v) => ({ ...v, state: 'active' as const })), ...retired];
  if (variants.length > LIMITS.maxVariantsIncludingRetired) {
    throw new ValidationError(
      'variants',
      `at most ${LIMITS.maxVariantsIncludingRetired} variants including retired ones`,
    );
  }
  const storedBytes = variants.reduce(
    (sum, v) =>
      sum +
      Buffer.byteLength(v.text) +
      Object.values(v.parts).reduce((p, t) => p + Buffer.byteLength(t) + 40, 0) +
      120,
    0,
  );
  if (storedBytes > LIMITS.maxStoredBytes) {
    throw new ValidationError(
      'variants',
      `texts and parts, retired variants included, take ${Math.ceil(storedBytes / 1024)} KB; at most ${LIMITS.maxStoredBytes / 1024} KB (retired variants keep their texts for the report)`,
    );
  }
  const options = checkOptions(body, existing?.options ?? DEFAULT_OPTIONS);
  const winner = existing?.winner && seen.has(existing.winner) ? existing.winner : null;
  return {
    tenantId,
    id,
    name,
    metric,
    status: existing?.status ?? 'running',
    winner,
    variants,
    options,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
    version: (existing?.version ?? 0) + 1,
  };
}

export function changeStatus(experiment: Experiment, body: unknown, now: number): Experiment {
  if (!isRecord(body)) throw new ValidationError('body', 'must be a JSON object');
  const status = body.status;
  if (status !== 'running' && status !== 'paused' && status !== 'finished') {
    throw new ValidationError('status', 'must be "running", "paused" or "finished"');
  }
  let winner: string | null = experiment.winner;
  if (body.winner !== undefined && body.winner !== null) {
    if (status !== 'finished') throw new ValidationError('winner', 'can only be set when finishing');
    const chosen = activeVariants(experiment).find((v) => v.id === body.winner);
    if (!chosen) throw new ValidationError('winner', 'must be the id of an active variant');
    winner = chosen.id;
  }
  if (status !== 'finished') winner = null;
  return { ...experiment, status, winner, updatedAt: now, version: experiment.version + 1 };
}

export function activeVariants(experiment: Experiment): Variant[] {
  return experiment.variants.filter((v) => v.state === 'active');
}

/** What to serve when nothing better is known: the winner, else the control, else the first active variant. */
export function defaultVariant(experiment: Experiment): Variant {
  const active = activeVariants(experiment);
  return (
    active.find((v) => v.id === experiment.winner) ??
    active.find((v) => v.control) ??
    active[0] ??
    experiment.variants[0]!
  );
}

export function findVariant(experiment: Experiment, variantId: string): Variant | undefined {
  return experiment.variants.find((v) => v.id === variantId);
}
