// Serverless plugin for the local stack: makes the ObjectCreated events of serverless-s3-local (s3rver) look like
// the ones S3 sends on AWS before the ingestion handler sees them. s3rver passes object keys raw, while S3
// URL-encodes them (space as `+`), so a handler that decodes keys, as it must on AWS, would turn the `+` in every
// Currents file name (`…+0+123456.avro`) into a space and read an object that does not exist.
// List it after serverless-s3-local: its hook then runs once the local S3 server exists.
// It also refuses to start a local stack that would listen beyond loopback (README, Security): the local
// servers hold the demo tenant's tokens and data, and a tunnel (WEFT_PUBLIC_BASE_URL) is how Braze reaches them.

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** S3's event-notification encoding: each path segment URL-encoded, spaces as `+`. */
function encodeS3EventKey(key) {
  return key
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/%20/g, '+'))
    .join('/');
}

function awsShaped(event, region) {
  if (!event || !Array.isArray(event.Records)) return event;
  return {
    ...event,
    Records: event.Records.map((record) => {
      if (!record?.s3?.object || typeof record.s3.object.key !== 'string') return record;
      const bucket = record.s3.bucket ?? {};
      return {
        ...record,
        awsRegion: region,
        s3: {
          ...record.s3,
          bucket: { ...bucket, arn: `arn:aws:s3:::${bucket.name}` },
          object: { ...record.s3.object, key: encodeS3EventKey(record.s3.object.key) },
        },
      };
    }),
  };
}

/** serverless-offline's and serverless-s3-local's listening addresses, each of which must be loopback. */
function assertLoopback(custom) {
  const offline = custom['serverless-offline'] ?? {};
  const s3 = custom.s3 ?? {};
  const settings = [
    ['custom.serverless-offline.host', offline.host],
    ['custom.s3.host', s3.host],
    ['custom.s3.address', s3.address],
  ];
  for (const [name, value] of settings) {
    if (!LOOPBACK.has(String(value))) {
      throw new Error(
        `serverless-s3-aws-events: ${name} is ${JSON.stringify(value)}; the local stack listens on 127.0.0.1 only`,
      );
    }
  }
}

class ServerlessS3AwsEvents {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:offline:start:init': () => this.patch() };
  }

  patch() {
    assertLoopback(this.serverless.service.custom ?? {});
    const s3Local = this.serverless.pluginManager.plugins.find(
      (plugin) => plugin?.constructor?.name === 'ServerlessS3Local',
    );
    const server = s3Local?.client;
    if (!server || typeof server.emit !== 'function') {
      throw new Error(
        'serverless-s3-aws-events: list it after serverless-s3-local, which must start the local S3',
      );
    }
    const region = this.serverless.service.provider.region;
    const emit = server.emit;
    server.emit = function emitAwsShaped(name, event, ...rest) {
      return name === 'event'
        ? emit.call(this, name, awsShaped(event, region), ...rest)
        : emit.call(this, name, event, ...rest);
    };
  }
}

module.exports = ServerlessS3AwsEvents;
module.exports.encodeS3EventKey = encodeS3EventKey;
module.exports.assertLoopback = assertLoopback;
