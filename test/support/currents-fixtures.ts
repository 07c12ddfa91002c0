// Currents fixtures built by code from braze/currents.md: schemas, records with fake personal data, files, keys.
import { type Schema, streams, Type } from 'avsc';
import { snappyEncoderCodec } from '../../adapters/avro/snappy-codec';

/** Avro schema JSON, as a file header carries it. */
export type AvroSchemaJson = string | object;

export interface AvroField {
  name: string;
  type: AvroSchemaJson;
  default?: unknown;
}

export interface AvroRecordSchema {
  type: 'record';
  name: string;
  fields: AvroField[];
}

export type CurrentsRecord = Record<string, unknown>;

const optional = (name: string, type: AvroSchemaJson = 'string'): AvroField => ({
  name,
  type: ['null', type],
  default: null,
});
const required = (name: string, type: AvroSchemaJson): AvroField => ({ name, type });

const LEADING_FIELDS: AvroField[] = [
  required('id', 'string'),
  required('user_id', 'string'),
  optional('dispatch_id'),
  optional('external_user_id'),
  required('time', 'int'),
  optional('timezone'),
  optional('campaign_id'),
  optional('campaign_name'),
  optional('message_variation_id'),
  optional('message_variation_name'),
  required('email_address', 'string'),
];

const CANVAS_FIELDS: AvroField[] = [
  'canvas_id',
  'canvas_name',
  'canvas_variation_id',
  'canvas_variation_name',
  'canvas_step_id',
  'canvas_step_name',
].map((name) => optional(name));

const DELIVERY_FIELDS: AvroField[] = [
  optional('esp'),
  optional('from_domain'),
  optional('is_amp', 'boolean'),
  optional('app_group_id'),
  optional('device_class'),
  optional('device_os'),
  optional('device_model'),
  optional('browser'),
  optional('mailbox_provider'),
];

/** users.messages.email.Click, field order as in Braze's sample schema. */
export function clickSchema(): AvroRecordSchema {
  return {
    type: 'record',
    name: 'dataexport.S3.inner.users.messages.email.Click',
    fields: [
      ...LEADING_FIELDS,
      optional('url'),
      ...CANVAS_FIELDS,
      optional('send_id'),
      optional('user_agent'),
      optional('ip_pool'),
      optional('link_id'),
      optional('link_alias'),
      ...DELIVERY_FIELDS,
      optional('is_suspected_bot_click', 'boolean'),
      optional('suspected_bot_click_reason', { type: 'array', items: 'string' }),
    ].map(copyField),
  };
}

/** users.messages.email.Open, field order as in Braze's sample schema. */
export function openSchema(): AvroRecordSchema {
  return {
    type: 'record',
    name: 'dataexport.S3.inner.users.messages.email.Open',
    fields: [
      ...LEADING_FIELDS,
      ...CANVAS_FIELDS,
      optional('send_id'),
      optional('user_agent'),
      optional('ip_pool'),
      optional('machine_open'),
      ...DELIVERY_FIELDS,
    ].map(copyField),
  };
}

function copyField(field: AvroField): AvroField {
  return structuredClone(field);
}

/** Adds fields (by default optional strings) at `index` (default: the end) — new fields Braze may add. */
export function withFields(schema: AvroRecordSchema, fields: AvroField[], index?: number): AvroRecordSchema {
  const copy = structuredClone(schema);
  copy.fields.splice(index ?? copy.fields.length, 0, ...structuredClone(fields));
  return copy;
}

export function withoutFields(schema: AvroRecordSchema, names: string[]): AvroRecordSchema {
  const copy = structuredClone(schema);
  copy.fields = copy.fields.filter((field) => !names.includes(field.name));
  return copy;
}

/** The same fields in another order (reversed unless `order` names them). */
export function reorderFields(schema: AvroRecordSchema, order?: string[]): AvroRecordSchema {
  const copy = structuredClone(schema);
  copy.fields = order
    ? order.map((name) => {
        const field = copy.fields.find((candidate) => candidate.name === name);
        if (!field) throw new Error(`no field ${name}`);
        return field;
      })
    : copy.fields.reverse();
  return copy;
}

export function optionalField(name: string, type: AvroSchemaJson = 'string'): AvroField {
  return optional(name, type);
}

/** Fake personal data every fixture record carries, so tests can prove none of it leaks. */
export const PERSONAL = {
  brazeId: '5e1a4c9f2b7d3e0012ab34cd',
  email: 'ada.lovelace@example.org',
  externalUserId: 'crm-customer-000042',
  userAgent:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)',
  ip: '203.0.113.77',
  name: 'Ada Lovelace',
} as const;

export const CAMPAIGN_ID = 'c0ffee00-1234-4abc-8def-0123456789ab';
export const CANVAS_STEP_ID = 'step0000-5678-4abc-8def-0123456789ab';
export const TRACKING_TOKEN = 'v1.eyJlIjoic3ByaW5nLXNhbGUiLCJ2IjoiYiJ9.Zm9vYmFyYmF6cXV4';

const COMMON_VALUES: CurrentsRecord = {
  id: 'a1b2c3d4-0000-4000-8000-000000000001',
  user_id: PERSONAL.brazeId,
  dispatch_id: 'dispatch-5f0c7e8a9b',
  external_user_id: PERSONAL.externalUserId,
  time: 1_743_526_800,
  timezone: 'Europe/London',
  campaign_id: CAMPAIGN_ID,
  campaign_name: 'Spring sale',
  message_variation_id: 'variation-0001',
  message_variation_name: 'Variant 1',
  email_address: PERSONAL.email,
  canvas_id: null,
  canvas_name: null,
  canvas_variation_id: null,
  canvas_variation_name: null,
  canvas_step_id: null,
  canvas_step_name: null,
  send_id: 'send-000123',
  user_agent: PERSONAL.userAgent,
  ip_pool: 'marketing-pool',
  esp: 'SendGrid',
  from_domain: 'news.shop.example',
  is_amp: false,
  app_group_id: 'appgroup-77aa',
  device_class: 'mobile',
  device_os: 'iOS',
  device_model: 'iPhone',
  browser: 'Safari',
  mailbox_provider: 'Gmail',
  // Not in Braze's schemas: written only when a test adds the field, to prove unknown fields are ignored.
  ip: PERSONAL.ip,
  first_name: PERSONAL.name,
};

export function clickRecord(overrides: CurrentsRecord = {}): CurrentsRecord {
  return {
    ...COMMON_VALUES,
    url: `https://shop.example/sale?utm_source=braze&weft=${TRACKING_TOKEN}&email=${encodeURIComponent(PERSONAL.email)}`,
    link_id: 'lid-abc123',
    link_alias: 'hero_cta',
    is_suspected_bot_click: false,
    suspected_bot_click_reason: ['user_agent'],
    ...overrides,
  };
}

export function openRecord(overrides: CurrentsRecord = {}): CurrentsRecord {
  return { ...COMMON_VALUES, machine_open: null, ...overrides };
}

export type CurrentsCodec = 'null' | 'deflate' | 'snappy';

/** An Avro object container file as Braze writes them (avsc BlockEncoder, with a snappy codec added). */
export async function writeCurrentsFile(
  schema: AvroSchemaJson,
  records: Iterable<CurrentsRecord>,
  options: { codec?: CurrentsCodec; blockSize?: number } = {},
): Promise<Buffer> {
  const encoder = new streams.BlockEncoder(schema as Schema, {
    codec: options.codec ?? 'null',
    codecs: { ...streams.BlockEncoder.defaultCodecs(), snappy: snappyEncoderCodec() },
    ...(options.blockSize === undefined ? {} : { blockSize: options.blockSize }),
  });
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    encoder.on('data', (chunk: Buffer) => chunks.push(chunk));
    encoder.on('end', resolve);
    encoder.on('error', reject);
  });
  for (const record of records) {
    if (!encoder.write(record)) await new Promise((resolve) => encoder.once('drain', resolve));
  }
  encoder.end();
  await done;
  return Buffer.concat(chunks);
}

// Hand-made containers, for input no honest encoder writes.

/** An Avro long (zig-zag varint); exact for any safe integer. */
export function avroLong(value: number): Buffer {
  let zigzag = value >= 0 ? BigInt(value) * 2n : -BigInt(value) * 2n - 1n;
  const bytes: number[] = [];
  do {
    let byte = Number(zigzag & 0x7fn);
    zigzag >>= 7n;
    if (zigzag > 0n) byte |= 0x80;
    bytes.push(byte);
  } while (zigzag > 0n);
  return Buffer.from(bytes);
}

export function avroString(value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([avroLong(bytes.length), bytes]);
}

export const FIXTURE_SYNC = Buffer.from('0123456789abcdef', 'latin1');

/** A container header; `meta` replaces the default schema/codec entries when given. */
export function containerHeader(options: {
  schema?: AvroSchemaJson;
  codec?: string;
  meta?: Record<string, string | Buffer>;
  sync?: Buffer;
}): Buffer {
  const meta = options.meta ?? {
    'avro.schema': JSON.stringify(options.schema ?? clickSchema()),
    'avro.codec': options.codec ?? 'null',
  };
  const entries = Object.entries(meta);
  const parts: Buffer[] = [Buffer.from('Obj\x01', 'latin1')];
  if (entries.length > 0) {
    parts.push(avroLong(entries.length));
    for (const [key, value] of entries) parts.push(avroString(key), avroString(value));
  }
  parts.push(avroLong(0), options.sync ?? FIXTURE_SYNC);
  return Buffer.concat(parts);
}

/** One container block: record count, byte size, data, sync marker. */
export function containerBlock(
  count: number,
  data: Buffer,
  sync: Buffer = FIXTURE_SYNC,
  size?: number,
): Buffer {
  return Buffer.concat([avroLong(count), avroLong(size ?? data.length), data, sync]);
}

/** Records encoded back to back with `schema`, as they sit inside an uncompressed block. */
export function encodeRecords(schema: AvroSchemaJson, records: CurrentsRecord[]): Buffer {
  const type = Type.forSchema(schema as Schema);
  return Buffer.concat(records.map((record) => type.toBuffer(record)));
}

// Object keys

export interface CurrentsKeyOptions {
  folder: string;
  eventType?: string;
  layout: 'schema-id' | 'version';
  /** Newer files name the cluster (`dataexport.prod-01.S3…`); older ones do not. Default true. */
  cluster?: boolean;
  date?: string;
  integrationId?: string;
}

/** A realistic object key in either layout Braze has used. */
export function currentsKey(options: CurrentsKeyOptions): string {
  const integrationId = options.integrationId ?? '5f3a9c2e7b1d4e0012ab34cd';
  const prefix =
    options.cluster === false ? 'dataexport.S3.integration' : 'dataexport.prod-01.S3.integration';
  const eventType = options.eventType ?? 'users.messages.email.Click';
  const date = options.date ?? '2025-04-01-17';
  const partitions = options.layout === 'schema-id' ? ['812', 'us-01'] : ['version=6', 'us-01'];
  const file =
    options.cluster === false
      ? `${prefix}.${integrationId}+2+0000035465.avro`
      : `${prefix}.${integrationId}+0+123456.avro`;
  return [
    options.folder,
    `${prefix}.${integrationId}`,
    `event_type=${eventType}`,
    `date=${date}`,
    ...partitions,
    file,
  ].join('/');
}
