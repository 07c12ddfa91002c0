// The local stack's settings: fixed names that follow serverless.yml, and what the environment may change.
import { isAbsolute, join, normalize, resolve } from 'node:path';

export const PROJECT_ROOT = resolve(__dirname, '..');
/**
 * The only address the local stack listens on (serverless-offline, the local S3 and DynamoDB Local): nothing
 * on the network reaches its tokens or data. serverless.yml sets the same for serverless-offline and the S3.
 */
export const LOOPBACK = '127.0.0.1';
export const STAGE = 'local';
// Both follow serverless.yml: `custom.tableName` and the `currentsBucket` param's default.
export const TABLE = `weft-${STAGE}`;
export const BUCKET = `weft-currents-${STAGE}`;
export const TENANT = 'demo';
export const FOLDER = 'demo';
// serverless-s3-local's (s3rver's) fixed credentials.
export const S3_KEY = 'S3RVER';

/** A failure the user can act on: printed as its message alone, without a stack. */
export class StartError extends Error {
  override readonly name = 'StartError';
}

export interface Config {
  readonly dataDir: string;
  readonly httpPort: number;
  readonly lambdaPort: number;
  readonly s3Port: number;
  readonly dynamodbPort: number;
  readonly publicBaseUrl: string;
  readonly esbuildDir: string;
  readonly verbose: boolean;
  readonly stopOnStdinEnd: boolean;
  /** Content workers warmed at start (serverless-offline starts one per concurrent request). */
  readonly warmContentWorkers: number;
}

/** The port of each setting, for messages that name the variable to change. */
export function portSettings(config: Config): ReadonlyArray<readonly [port: number, variable: string]> {
  return [
    [config.httpPort, 'WEFT_PORT'],
    [config.lambdaPort, 'WEFT_LAMBDA_PORT'],
    [config.s3Port, 'WEFT_S3_PORT'],
    [config.dynamodbPort, 'WEFT_DYNAMODB_PORT'],
  ];
}

export function readConfig(env: NodeJS.ProcessEnv): Config {
  const port = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1 || value > 65535) {
      throw new StartError(`${name} must be a TCP port (1-65535), not "${raw}"`);
    }
    return value;
  };
  const config: Config = {
    dataDir: env['WEFT_DATA_DIR'] ? resolve(env['WEFT_DATA_DIR']) : join(PROJECT_ROOT, '.weft'),
    httpPort: port('WEFT_PORT', 3000),
    lambdaPort: port('WEFT_LAMBDA_PORT', 3002),
    s3Port: port('WEFT_S3_PORT', 4569),
    dynamodbPort: port('WEFT_DYNAMODB_PORT', 8000),
    publicBaseUrl: (env['WEFT_PUBLIC_BASE_URL'] ?? '').replace(/\/+$/, ''),
    esbuildDir: normalize(env['WEFT_ESBUILD_DIR'] || '.esbuild'),
    verbose: env['WEFT_VERBOSE'] === '1',
    stopOnStdinEnd: env['WEFT_STOP_ON_STDIN_END'] === '1',
    warmContentWorkers: Math.min(64, Math.max(1, Math.floor(Number(env['WEFT_WARM_CONTENT_WORKERS']) || 16))),
  };
  const ports = portSettings(config).map(([value]) => value);
  if (new Set(ports).size !== ports.length) {
    throw new StartError(
      `WEFT_PORT, WEFT_LAMBDA_PORT, WEFT_S3_PORT and WEFT_DYNAMODB_PORT must differ (${ports.join(', ')})`,
    );
  }
  // serverless-esbuild joins it to the project directory; keep it inside.
  if (isAbsolute(config.esbuildDir) || config.esbuildDir.startsWith('..')) {
    throw new StartError(`WEFT_ESBUILD_DIR must be a folder inside the project, not "${config.esbuildDir}"`);
  }
  return config;
}

export const localUrl = (config: Config): string => `http://${LOOPBACK}:${config.httpPort}`;
export const dynamodbEndpoint = (config: Config): string => `http://${LOOPBACK}:${config.dynamodbPort}`;
export const s3Endpoint = (config: Config): string => `http://${LOOPBACK}:${config.s3Port}`;

/** The environment serverless-offline (and through it the handlers) runs with. */
export function localEnv(config: Config): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // Real AWS credentials, profiles and regions must not reach the local stack (or leak into handler env).
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('AWS_')) env[key] = value;
  return {
    ...env,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    WEFT_TABLE: TABLE,
    WEFT_CURRENTS_BUCKET: BUCKET,
    WEFT_DATA_DIR: config.dataDir,
    WEFT_PORT: String(config.httpPort),
    WEFT_LAMBDA_PORT: String(config.lambdaPort),
    WEFT_S3_PORT: String(config.s3Port),
    WEFT_DYNAMODB_ENDPOINT: dynamodbEndpoint(config),
    WEFT_PUBLIC_BASE_URL: config.publicBaseUrl,
    WEFT_ESBUILD_DIR: config.esbuildDir,
  };
}
